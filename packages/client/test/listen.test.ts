/**
 * `client.listen()` against the real server and real PocketSphinx: the audio is spoken by voxgate's
 * own Flite voices through the TTS API (client.speak), then streamed back as Int16Array or Float32Array
 * frames, faster than real time or paced at it. Assertions are on words, events and error codes.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import WebSocket from 'ws'
import { startTestServer, type TestServer } from '../../server/test/helpers/server.ts'
import { FLITE_VOICES, wer } from '../../server/test/stt/helpers.ts'
import {
  AudioInputError,
  ConnectionError,
  TokenSource,
  VoxgateClient,
  type ListenEvent,
  type PcmFrame,
  type WebSocketConstructor,
} from '../src/index.ts'
import { startAppBackend, type AppBackend } from './helpers/app-backend.ts'

/** The access token in the query of every STT socket opened, in order. */
const sttTokens: string[] = []
class RecordingWebSocket extends WebSocket {
  constructor(url: string) {
    super(url)
    const u = new URL(url)
    if (u.pathname === '/stt/websocket') sttTokens.push(u.searchParams.get('access_token') ?? '')
  }
}
const WS = RecordingWebSocket as unknown as WebSocketConstructor

const FIRST = 'The quick brown fox jumps over the lazy dog.'
const SECOND = 'Please call me back when you get home tonight.'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let server: TestServer
let backend: AppBackend
let tokens: TokenSource
let client: VoxgateClient

before(async () => {
  // Real engines (Flite speaks the test audio); 3-second tokens; sockets may outlive them by 60 s.
  server = await startTestServer({ speech: 'real', clockToleranceSeconds: 0, wsSessionGraceMs: 60_000 })
  backend = await startAppBackend(server.url, server.apiKey, { grants: { tts: true, stt: true }, expires_in: 3 })
  tokens = new TokenSource({ endpoint: backend.url })
  client = new VoxgateClient({ baseUrl: server.url, tokens, WebSocket: WS })
})
after(async () => {
  client.close()
  tokens.close()
  await backend.close()
  await server.close()
})

/** Flite (SLT) speaking `text` through the TTS API, as 16-bit or float samples. */
async function spoken(text: string, encoding: 'pcm_s16le' | 'pcm_f32le', sampleRate: number): Promise<PcmFrame> {
  const parts: Uint8Array[] = []
  const voice = FLITE_VOICES.get('slt')!
  for await (const c of client.speak({
    model_id: 'sonic-3',
    voice,
    transcript: text,
    output_format: { container: 'raw', encoding, sample_rate: sampleRate },
  }))
    parts.push(c.audio)
  const bytes = Buffer.concat(parts)
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  return encoding === 'pcm_s16le' ? new Int16Array(copy) : new Float32Array(copy)
}

const silenceLike = (pcm: PcmFrame, samples: number): PcmFrame =>
  pcm instanceof Int16Array ? new Int16Array(samples) : new Float32Array(samples)

/** Yields `pcm` in frames of `frame` samples; `paced` sleeps each frame's duration (real time). */
async function* frames(pcm: PcmFrame, frame: number, paced?: number): AsyncGenerator<PcmFrame> {
  for (let at = 0; at < pcm.length; at += frame) {
    yield pcm.subarray(at, at + frame)
    if (paced) await sleep((frame / paced) * 1000)
  }
}

function record(session: ReturnType<VoxgateClient['listen']>): ListenEvent[] {
  const events: ListenEvent[] = []
  for (const type of ['partial', 'final', 'error', 'done'] as const) session.on(type, (e) => events.push(e))
  return events
}

describe('listen()', () => {
  test('Int16Array frames faster than real time: partials, a final per utterance, done with the whole transcript', async () => {
    const a = await spoken(FIRST, 'pcm_s16le', 16000)
    const b = await spoken(SECOND, 'pcm_s16le', 16000)
    const pcm = new Int16Array(a.length + b.length + 16000 * 3)
    pcm.set(a, 8000)
    pcm.set(b, 8000 + a.length + 19200)
    async function* all() {
      yield* frames(pcm, 320)
    }
    const session = client.listen({ sampleRate: 16000, frames: all() })
    const events = record(session)
    const transcript = await session.done
    const finals = events.filter((e) => e.type === 'final')
    assert.ok(
      events.some((e) => e.type === 'partial'),
      'partials while audio arrives',
    )
    assert.equal(finals.length, 2, JSON.stringify(finals.map((f) => f.text)))
    assert.equal(transcript, finals.map((f) => f.text).join(''))
    assert.equal(session.transcript, transcript)
    assert.deepEqual(events.at(-1), { type: 'done', transcript })
    assert.ok(wer(`${FIRST} ${SECOND}`, transcript).errors <= 3, transcript)
    for (const f of finals) assert.equal(f.words.map((w) => w.word).join(' '), f.text.trim())
  })

  test('Float32Array frames at 24 kHz paced in real time: finalize() returns the first sentence, the session outlives its 3 s token', async () => {
    const a = await spoken(FIRST, 'pcm_f32le', 24000)
    const b = await spoken(SECOND, 'pcm_f32le', 24000)
    let firstSent!: () => void
    const firstDone = new Promise<void>((r) => (firstSent = r))
    let gate!: () => void
    const opened = new Promise<void>((r) => (gate = r))
    async function* source() {
      yield* frames(a, 2400, 24000)
      firstSent()
      await opened
      yield* frames(b, 2400, 24000)
      yield silenceLike(b, 12000)
    }
    const session = client.listen({ sampleRate: 24000, frames: source() }, { chunkMs: 50 })
    const tokenAtStart = sttTokens.length
    await firstDone
    const first = await session.finalize()
    assert.ok(wer(FIRST, first).errors <= 2, first)
    gate()
    const whole = await session.done
    assert.ok(whole.startsWith(first), `${whole} starts with ${first}`)
    assert.ok(wer(`${FIRST} ${SECOND}`, whole).errors <= 3, whole)
    // Over 5 s of real-time audio on a token that lived 3 s: the server's session grace held it open.
    assert.equal(sttTokens.length, tokenAtStart + 1)
  })

  test('each session opens with the freshest token: a later session never reuses an expired one', async () => {
    const before = sttTokens.length
    for (let i = 0; i < 2; i++) {
      const session = client.listen({ sampleRate: 16000, frames: frames(new Int16Array(8000), 1600) })
      assert.equal(await session.done, '')
      await sleep(3500)
    }
    const [x, y] = sttTokens.slice(before)
    assert.ok(x && y && x !== y, 'a new token for the next connection')
    assert.ok(backend.minted.includes(x) && backend.minted.includes(y))
  })

  test('cancel() ends at once; done resolves with what was final', async () => {
    async function* endless() {
      for (;;) {
        yield new Int16Array(1600)
        await sleep(100)
      }
    }
    const session = client.listen({ sampleRate: 16000, frames: endless() })
    await sleep(300)
    session.cancel()
    assert.equal(await session.done, '')
  })
})

describe('listen() errors', () => {
  test('a source that throws, or yields something that is not PCM: ERR_AUDIO_SOURCE', async () => {
    async function* throws() {
      yield new Int16Array(160)
      throw new Error('disk on fire')
    }
    async function* notPcm() {
      yield 'hello' as unknown as Int16Array
    }
    for (const src of [throws(), notPcm()]) {
      const session = client.listen({ sampleRate: 16000, frames: src })
      const err = await session.done.then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(err instanceof AudioInputError, String(err))
      assert.equal(err.code, 'ERR_AUDIO_SOURCE')
    }
  })

  test('wrong arguments are TypeErrors at once', () => {
    const src = frames(new Int16Array(0), 1)
    assert.throws(() => client.listen({ sampleRate: 4000, frames: src }), TypeError)
    assert.throws(() => client.listen({ sampleRate: 16000, frames: src }, { chunkMs: 0 }), TypeError)
  })

  test('a token without the stt grant: the handshake is refused, refreshed once, then ERR_SOCKET_CONNECT', async () => {
    const ttsOnly = await startAppBackend(server.url, server.apiKey, { grants: { tts: true }, expires_in: 60 })
    const c = new VoxgateClient({
      baseUrl: server.url,
      tokens: new TokenSource({ endpoint: ttsOnly.url }),
      WebSocket: WS,
    })
    try {
      const session = c.listen({ sampleRate: 16000, frames: frames(new Int16Array(1600), 160) })
      const events = record(session)
      const err = await session.done.then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(err instanceof ConnectionError && err.code === 'ERR_SOCKET_CONNECT', String(err))
      assert.equal(ttsOnly.minted.length, 2, 'one refresh and one retry')
      assert.deepEqual(
        events.map((e) => e.type),
        ['error'],
      )
    } finally {
      await ttsOnly.close()
    }
  })

  test('past the session grace the server ends the socket: an error event and done reject with ERR_TOKEN_EXPIRED', async () => {
    const strict = await startTestServer({ clockToleranceSeconds: 0, wsSessionGraceMs: 0 })
    const short = await startAppBackend(strict.url, strict.apiKey, { grants: { stt: true }, expires_in: 2 })
    const c = new VoxgateClient({
      baseUrl: strict.url,
      tokens: new TokenSource({ endpoint: short.url, autoRefresh: false }),
      WebSocket: WS,
    })
    async function* silenceForever() {
      for (;;) {
        yield new Float32Array(1600)
        await sleep(100)
      }
    }
    try {
      const session = c.listen({ sampleRate: 16000, frames: silenceForever() })
      const events = record(session)
      const err = await session.done.then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(err instanceof Error && 'code' in err && err.code === 'ERR_TOKEN_EXPIRED', String(err))
      assert.deepEqual(
        events.map((e) => e.type),
        ['error'],
      )
      await assert.rejects(session.finalize(), { code: 'ERR_ABORTED' })
    } finally {
      await short.close()
      await strict.close()
    }
  })
})
