/**
 * A client that goes away, at any moment, gives back everything its stream held: the token's stream
 * slot, the synthesis (no audio made for nobody), the characters never spoken, and memory. The
 * engine sits behind a test-controlled door (ControlledSpeech) so each moment is hit on purpose.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import WebSocket from 'ws'
import { countCharacters } from '@voxgate/protocol'
import { splitSentences } from '../../src/tts/index.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { firstVoice, raw } from '../helpers/speech.ts'
import { wsUrl } from '../helpers/ws.ts'
import { ControlledSpeech, eventually } from '../helpers/controlled-speech.ts'

let t: TestServer
let speech: ControlledSpeech
let voice: string
before(async () => {
  speech = await ControlledSpeech.create()
  t = await startTestServer({}, { speech })
  voice = await firstVoice(t.url, t.apiKey)
})
after(async () => {
  await t.close()
  await speech.close()
})

type Transport = 'bytes' | 'sse' | 'websocket'
const TRANSPORTS: Transport[] = ['bytes', 'sse', 'websocket']

/** Twenty sentences of different lengths, so what was charged tells which sentences started. */
const LONG = Array.from({ length: 20 }, (_, i) => `Sentence ${i} ${'word '.repeat(i + 1).trim()}.`).join(' ')
/** What a stream cut after its k-th sentence is charged: the text up to that sentence's end. */
const prefixSums = (text: string): number[] => {
  const sums = [0]
  let at = 0
  for (const s of splitSentences(text)) {
    at = text.indexOf(s, at) + s.length
    sums.push(countCharacters(text.slice(0, at)))
  }
  return sums
}

const self = async (token: string) => (await call(t.url, '/access-token/self', { headers: bearer(token) })).json
const limitedToken = () =>
  mint(t.url, t.apiKey, { grants: { tts: true }, limits: { concurrent_streams: 1, characters: 1_000_000 } })

interface Started {
  /** Resolves once the first audio has reached the client. */
  firstAudio: Promise<void>
  /** The client goes away: a reset connection, not a polite close. */
  leave(): void
}

function begin(transport: Transport, token: string, transcript: string): Started {
  const body = { model_id: 'sonic-3', voice, transcript, output_format: raw('pcm_s16le', 16000) }
  if (transport === 'websocket') {
    const ws = new WebSocket(wsUrl(t.url), { headers: bearer(token) })
    ws.on('error', () => undefined)
    ws.once('open', () => ws.send(JSON.stringify({ ...body, context_id: 'c' })))
    const firstAudio = new Promise<void>((resolve) =>
      ws.on('message', (d) => {
        if (JSON.parse(d.toString()).type === 'chunk') resolve()
      }),
    )
    return { firstAudio, leave: () => ws.terminate() }
  }
  const controller = new AbortController()
  const response = fetch(`${t.url}/tts/${transport}`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: controller.signal,
  })
  const firstAudio = response.then(async (res) => {
    await res.body?.getReader().read()
  })
  firstAudio.catch(() => undefined)
  return { firstAudio, leave: () => controller.abort() }
}

/** Nothing of the stream is left: no slot on the token, no synthesis running, no stream registered. */
async function nothingLeft(token: string): Promise<void> {
  await eventually(
    async () =>
      speech.inFlight === 0 && t.server.ctx.streams.size === 0 && (await self(token)).usage.open_streams === 0,
    `stream of a departed client released (in flight ${speech.inFlight}, registered ${t.server.ctx.streams.size})`,
  )
}

/** The token's slot is free again: a whole request on it succeeds. */
async function slotIsFree(token: string): Promise<void> {
  const res = await fetch(`${t.url}/tts/bytes`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify({
      model_id: 'sonic-3',
      voice,
      transcript: 'One two.',
      output_format: raw('pcm_s16le', 16000),
    }),
  })
  assert.equal(res.status, 200)
  assert.equal((await res.arrayBuffer()).byteLength, 2 * 2 * 960) // two words of 60 ms at 16 kHz
}

for (const transport of TRANSPORTS) {
  describe(`${transport}: a client that goes away`, () => {
    test('while the first audio is awaited frees the slot and the synthesis, and is charged nothing', async () => {
      const token = await limitedToken()
      const begun = speech.begun
      speech.hold()
      try {
        const s = begin(transport, token, LONG)
        await eventually(() => speech.begun > begun, 'synthesis began')
        s.leave()
        await nothingLeft(token)
        assert.equal((await self(token)).usage.characters, 0)
      } finally {
        speech.release()
      }
      await slotIsFree(token)
    })

    test('mid-stream is charged only the sentences whose synthesis started', async () => {
      const token = await limitedToken()
      speech.chunkDelayMs = 5
      try {
        const s = begin(transport, token, LONG)
        await s.firstAudio
        s.leave()
        await nothingLeft(token)
      } finally {
        speech.chunkDelayMs = 0
      }
      const charged = (await self(token)).usage.characters
      const sums = prefixSums(LONG)
      assert.ok(
        sums.includes(charged) && charged > 0 && charged < countCharacters(LONG),
        `charged ${charged} is a whole number of started sentences`,
      )
      await slotIsFree(token)
    })

    for (const ms of [5, 30, 80, 300]) {
      test(`at ${ms} ms leaves nothing behind`, async () => {
        const token = await limitedToken()
        speech.chunkDelayMs = 10
        try {
          const s = begin(transport, token, LONG)
          await new Promise((r) => setTimeout(r, ms))
          s.leave()
          await nothingLeft(token)
        } finally {
          speech.chunkDelayMs = 0
        }
        const charged = (await self(token)).usage.characters
        assert.ok(prefixSums(LONG).includes(charged), `charged ${charged} is a whole number of started sentences`)
        await slotIsFree(token)
      })
    }
  })
}

describe('memory does not grow with the number of departed clients', () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  // Two long sentences of audio per request: a leak keeps about a megabyte each.
  const HEAVY = `${'word '.repeat(150).trim()}. ${'more '.repeat(150).trim()}.`
  const heavy = { model_id: 'sonic-3', voice, transcript: HEAVY, output_format: raw('pcm_s16le', 24000) }

  async function abortBatch(n: number): Promise<void> {
    const token = await mint(t.url, t.apiKey)
    for (let done = 0; done < n; done += 20) {
      const begun = speech.begun
      speech.hold()
      const controllers = Array.from({ length: 20 }, () => new AbortController())
      for (const c of controllers) {
        fetch(`${t.url}/tts/bytes`, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify({ ...heavy, voice }),
          signal: c.signal,
        }).catch(() => undefined)
      }
      await eventually(() => speech.begun >= begun + 20, 'twenty syntheses began')
      for (const c of controllers) c.abort()
      // The engine produces audio after the clients left: nobody must be holding it.
      speech.release()
      await eventually(() => speech.inFlight === 0 && t.server.ctx.streams.size === 0, 'all released')
    }
  }

  const rss = () => {
    gc()
    gc()
    return process.memoryUsage().rss
  }

  test('RSS after 600 aborted bytes requests is about that after 300', async () => {
    await abortBatch(300)
    const after300 = rss()
    await abortBatch(300)
    const after600 = rss()
    const grewMb = (after600 - after300) / 2 ** 20
    // A leak keeps ~1 MB per request (300 MB here); the allocator's own slack is a few MB.
    assert.ok(grewMb < 64, `RSS grew ${grewMb.toFixed(1)} MB over the second 300 aborts`)
  })
})
