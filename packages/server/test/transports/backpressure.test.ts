/**
 * A slow reader must not make the server buffer without bound: synthesis waits for the socket to
 * drain. The speech service here is the real (deterministic-engine) one, wrapped only to count the
 * chunks it has produced.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import { createDeterministicSpeech } from '../helpers/inline-runner.ts'
import type { SpeechService } from '../../src/tts/types.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { firstVoice, raw } from '../helpers/speech.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

let produced = 0
let inner: SpeechService
let t: TestServer
let voice: string
/** ~1700 words: about 26 MB of base64 audio at 48 kHz f32, far more than socket buffers hold. */
const LONG = `${'word '.repeat(1666)}end.`
const WORDS = 1667

before(async () => {
  inner = await createDeterministicSpeech()
  const counting: SpeechService = {
    ...inner,
    voices: inner.voices,
    resolveModel: (id) => inner.resolveModel(id),
    async *synthesize(request, signal) {
      for await (const chunk of inner.synthesize(request, signal)) {
        produced++
        yield chunk
      }
    },
  }
  t = await startTestServer({}, { speech: counting })
  voice = await firstVoice(t.url, t.apiKey)
})
after(async () => {
  await t.close()
  await inner.close()
})

/** Waits until the production count stops moving (the server is blocked on the socket). */
async function settled(): Promise<number> {
  let last = -1
  while (last !== produced) {
    last = produced
    await sleep(300)
  }
  return produced
}

describe('backpressure', () => {
  test('WebSocket: synthesis pauses while the client does not read, and resumes', async () => {
    produced = 0
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${t.apiKey}` })
    const socket = (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
    socket.pause()
    s.send({ model_id: 'sonic-3', voice, transcript: LONG, context_id: 'slow', output_format: raw('pcm_f32le', 48000) })
    const whilePaused = await settled()
    assert.ok(whilePaused > 0, 'it started')
    assert.ok(whilePaused < WORDS * 0.9, `paused at ${whilePaused} chunks of about ${WORDS}`)
    socket.resume()
    assert.equal((await s.end('slow')).type, 'done')
    const bytes = s
      .of('slow')
      .filter((e) => e.type === 'chunk')
      .reduce((n, e) => n + Buffer.from(e.data, 'base64').length, 0)
    assert.equal(bytes, WORDS * 2880 * 4, 'every sample arrived')
    s.close()
  })

  test('bytes: synthesis pauses while the client does not read, and resumes', async () => {
    produced = 0
    const body = JSON.stringify({
      model_id: 'sonic-3',
      voice,
      transcript: LONG,
      output_format: raw('pcm_f32le', 48000),
    })
    const received = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        `${t.url}/tts/bytes`,
        { method: 'POST', headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' } },
        async (res) => {
          res.pause()
          const whilePaused = await settled()
          try {
            assert.ok(whilePaused < WORDS * 0.9, `paused at ${whilePaused} chunks of about ${WORDS}`)
          } catch (err) {
            reject(err)
          }
          let bytes = 0
          res.on('data', (d: Buffer) => {
            bytes += d.length
          })
          res.on('end', () => resolve(bytes))
          res.resume()
        },
      )
      req.on('error', reject)
      req.end(body)
    })
    assert.equal(received, WORDS * 2880 * 4)
  })
})
