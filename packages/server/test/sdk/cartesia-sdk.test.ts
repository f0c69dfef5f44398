/**
 * The official @cartesia/cartesia-js v4, unchanged but for `baseURL`, against a real voxgate with real
 * speech and real TLS, authenticated by an access token it minted itself.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import WebSocket from 'ws'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { concat, mp3SyncAt, parseWavHeader, rmsF32, rmsS16 } from '../helpers/audio.ts'

// The CommonJS build, as a Node app gets it with `require`: it finds `ws` and sends headers.
const require = createRequire(import.meta.url)
const { Cartesia } = require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js')

const TEXT = 'Access tokens let a browser speak without ever seeing the API key.'
let t: TestServer
let token: string
let voiceId: string
let client: InstanceType<typeof Cartesia>
let admin: InstanceType<typeof Cartesia>

before(async () => {
  t = await startTestServer({ speech: 'real', speechWorkers: 2 })
  admin = new Cartesia({ apiKey: t.apiKey, baseURL: t.url })
  token = (await admin.accessToken.create({ grants: { tts: true, voices: true } as never, expires_in: 600 })).token
  client = new Cartesia({ token, baseURL: t.url })
  const first = await client.voices.list({ limit: 1, language: 'en' } as never)
  voiceId = first.data[0]!.id
})
after(() => t.close())

const request = { model_id: 'sonic-3', transcript: TEXT }

describe('@cartesia/cartesia-js v4 against voxgate', () => {
  test('accessToken.create with an API key returns a JWT', async () => {
    assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
  })

  test("accessToken.create with Cartesia's own grants {tts, stt} (its Next.js example) succeeds", async () => {
    const { token: both } = await admin.accessToken.create({ grants: { tts: true, stt: true }, expires_in: 60 })
    const info = await fetch(`${t.url}/access-token/self`, { headers: { authorization: `Bearer ${both}` } })
    assert.deepEqual(((await info.json()) as { grants: unknown }).grants, { tts: true, stt: true })
  })

  test('getStatus', async () => {
    const status = await client.getStatus()
    assert.equal((status as { ok: boolean }).ok, true)
  })

  for (const sampleRate of [8000, 16000, 24000, 44100, 48000]) {
    test(`tts.generate wav pcm_s16le @ ${sampleRate}: header, rate, duration, not silence`, async () => {
      const res = await client.tts.generate({
        ...request,
        voice: { mode: 'id', id: voiceId },
        output_format: { container: 'wav', encoding: 'pcm_s16le', sample_rate: sampleRate },
      } as never)
      const bytes = new Uint8Array(await res.arrayBuffer())
      const wav = parseWavHeader(bytes)
      assert.deepEqual([wav.format, wav.channels, wav.sampleRate, wav.bitsPerSample], [1, 1, sampleRate, 16])
      const seconds = (bytes.length - wav.dataOffset) / 2 / sampleRate
      assert.ok(seconds > 2.5 && seconds < 8, `duration ${seconds}s fits 12 words`)
      assert.ok(rmsS16(bytes.subarray(wav.dataOffset)) > 0.02, 'not silence')
    })
  }

  for (const [encoding, bytesPerSample] of [
    ['pcm_f32le', 4],
    ['pcm_s16le', 2],
    ['pcm_mulaw', 1],
    ['pcm_alaw', 1],
  ] as const) {
    test(`tts.generate raw ${encoding}`, async () => {
      const res = await client.tts.generate({
        ...request,
        voice: voiceId,
        output_format: { container: 'raw', encoding, sample_rate: 22050 },
      } as never)
      const bytes = new Uint8Array(await res.arrayBuffer())
      const seconds = bytes.length / bytesPerSample / 22050
      assert.ok(seconds > 2.5 && seconds < 8, `${encoding}: ${seconds}s`)
      if (encoding === 'pcm_f32le') assert.ok(rmsF32(bytes) > 0.02)
      if (encoding === 'pcm_s16le') assert.ok(rmsS16(bytes) > 0.02)
      if (encoding === 'pcm_mulaw' || encoding === 'pcm_alaw')
        assert.ok(new Set(bytes).size > 50, 'companded audio varies')
    })
  }

  test('tts.generate mp3', async () => {
    const res = await client.tts.generate({
      ...request,
      voice: { id: voiceId },
      output_format: { container: 'mp3', sample_rate: 44100, bit_rate: 128000 },
    } as never)
    const bytes = new Uint8Array(await res.arrayBuffer())
    assert.equal(mp3SyncAt(bytes), 0, 'starts with a frame')
    const seconds = (bytes.length * 8) / 128000
    assert.ok(seconds > 2 && seconds < 9, `~${seconds}s at 128 kbps`)
  })

  test('tts.generateSSE: chunks then done, context_id echoed', async () => {
    const stream = await client.tts.generateSSE({
      ...request,
      voice: voiceId,
      context_id: 'sse-1',
      add_timestamps: true,
      output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24000 },
    } as never)
    const types: string[] = []
    const audio: Uint8Array[] = []
    for await (const event of stream as AsyncIterable<any>) {
      types.push(event.type)
      assert.equal(event.context_id, 'sse-1')
      if (event.type === 'chunk') audio.push(Buffer.from(event.data, 'base64'))
    }
    assert.equal(types.at(-1), 'done')
    assert.ok(types.includes('timestamps'))
    const seconds = concat(audio).length / 4 / 24000
    assert.ok(seconds > 2.5 && seconds < 8)
  })

  test('tts.websocket: two contexts multiplexed, one with streamed input and flush', async () => {
    const ws = await client.tts.websocket()
    try {
      const options = {
        model_id: 'sonic-3',
        voice: voiceId,
        output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
      } as const
      const a = ws.context({ ...options, contextId: 'ctx-a' } as never)
      const b = ws.context({ ...options, contextId: 'ctx-b', add_timestamps: true } as never)
      await a.push({ transcript: 'Hello from the first ' })
      await b.send({ transcript: 'And this is the second context speaking.' } as never)
      await a.push({ transcript: 'context, streamed in pieces.' })
      await a.flush()
      await a.no_more_inputs()
      const drain = async (ctx: typeof a) => {
        const events: any[] = []
        for await (const e of ctx.receive({ timeout: 20_000 })) events.push(e)
        return events
      }
      const [ea, eb] = await Promise.all([drain(a), drain(b)])
      for (const [events, id] of [
        [ea, 'ctx-a'],
        [eb, 'ctx-b'],
      ] as const) {
        assert.equal(events.at(-1).type, 'done')
        assert.ok(events.every((e: any) => e.context_id === id))
        const bytes = concat(
          events.filter((e: any) => e.type === 'chunk').map((e: any) => Buffer.from(e.data, 'base64')),
        )
        assert.ok(bytes.length / 2 / 16000 > 1.5, `${id} spoke`)
        assert.ok(rmsS16(bytes) > 0.02)
      }
      assert.ok(ea.some((e: any) => e.type === 'flush_done' && e.flush_id === 1))
      assert.ok(eb.some((e: any) => e.type === 'timestamps' && e.word_timestamps.words.length > 3))
    } finally {
      ws.close()
    }
  })

  test('voices.list pages to the end with starting_after', async () => {
    const ids: string[] = []
    for await (const voice of client.voices.list({ limit: 2 } as never)) ids.push((voice as { id: string }).id)
    assert.ok(ids.length >= 6, `${ids.length} voices`)
    assert.equal(new Set(ids).size, ids.length, 'no voice twice')
  })

  test('the browser path: ?access_token= and ?cartesia_version= in the query', async () => {
    const url = `${t.url.replace('https', 'wss')}/tts/websocket?cartesia_version=2026-08-14&access_token=${token}&cartesia_client=cartesia-js%2F4.2.0`
    const ws = new WebSocket(url)
    const events: any[] = []
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () =>
        ws.send(
          JSON.stringify({
            ...request,
            context_id: 'q',
            voice: voiceId,
            output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 16000 },
          }),
        ),
      )
      ws.on('message', (d) => {
        const e = JSON.parse(d.toString())
        events.push(e)
        if (e.done) resolve()
      })
      ws.once('error', reject)
    })
    ws.close()
    assert.equal(events.at(-1).type, 'done')
    assert.ok(events.filter((e) => e.type === 'chunk').length > 0)
  })
})
