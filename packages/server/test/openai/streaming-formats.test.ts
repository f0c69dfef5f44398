/**
 * Opus and FLAC stream as they are made, as every `stream_format: "audio"` answer does: the first
 * sentence's audio reaches the client, and decodes, while the engine still holds the last sentence
 * back (ControlledSpeech: the engine is the one part tests swap), and while a gateway's upstream has
 * sent only half its PCM. What arrives whole still decodes to the whole speech, and the same speech
 * is the same bytes, held or not.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { OggOpusDecoder } from 'ogg-opus-decoder'
import { FLACDecoder } from '@wasm-audio-decoders/flac'
import { DETERMINISTIC_RATE, DETERMINISTIC_WORD_MS } from '../helpers/deterministic-engine.ts'
import { ControlledSpeech, eventually } from '../helpers/controlled-speech.ts'
import { decodedSamples } from '../helpers/decoded-audio.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { bearer, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** Two sentences: the engine hands out the first, then is held before the second. */
const TEXT = 'One two three four. Five six.'
/** The deterministic engine's chunks for TEXT (about one a word), and those of its first sentence's words. */
const CHUNKS = 8
const FIRST_SENTENCE_CHUNKS = 4
/** Samples of TEXT at 24 kHz: 60 ms a word at 16 kHz, resampled exactly. */
const SAMPLES_24K = 6 * Math.round((DETERMINISTIC_RATE * DETERMINISTIC_WORD_MS) / 1000) * (24000 / 16000)

type Format = 'opus' | 'flac'
/** Each format's decoder, and the samples (at the decoder's rate) the whole of TEXT decodes to. */
const FORMATS: Record<Format, { decoder: () => OggOpusDecoder | FLACDecoder; samples: (n: number) => number[] }> = {
  // Opus decodes at 48 kHz; its last frame is whole (20 ms = 960 samples), so up to that much longer.
  opus: { decoder: () => new OggOpusDecoder(), samples: (n) => [n * 2, n * 2 + 960] },
  // FLAC is lossless: exactly the speech.
  flac: { decoder: () => new FLACDecoder(), samples: (n) => [n, n] },
}

/** What `bytes` decode to; nothing yet (the FLAC decoder needs 4 bytes to tell its container). */
const samplesOf = async (format: Format, bytes: Uint8Array) =>
  bytes.length < 4 ? 0 : (await decodedSamples(FORMATS[format].decoder(), bytes)).samples

/** Reads chunks until what has arrived decodes to some audio: a body held back whole never does. */
async function readUntilAudible(format: Format, reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Buffer> {
  let early = Buffer.alloc(0)
  while ((await samplesOf(format, early)) === 0) {
    const r = await reader.read()
    assert.equal(r.done, false, 'the body ended before any audio')
    early = Buffer.concat([early, r.value!])
  }
  return early
}

async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value)
  return Buffer.concat(parts)
}

async function post(url: string, token: string, body: object): Promise<Response> {
  const res = await fetch(`${url}/v1/audio/speech`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tts-1', input: TEXT, ...body }),
  })
  assert.equal(res.status, 200)
  return res
}

// A liveness bound for the tests that wait on a stream (a body held back whole would wait forever).
const LIVENESS = { timeout: 20_000 }

describe('local speech', () => {
  let speech: ControlledSpeech
  let t: TestServer
  let token: string
  before(async () => {
    speech = await ControlledSpeech.create()
    t = await startTestServer({}, { speech })
    token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
  })
  after(async () => {
    await t.close()
    await speech.close()
  })

  for (const format of ['opus', 'flac'] as const) {
    test(
      `${format}: the first sentence arrives and decodes while the last is held in the engine`,
      LIVENESS,
      async () => {
        const handedOut = speech.yielded
        speech.holdAfter(FIRST_SENTENCE_CHUNKS)
        const reader = (await post(t.url, token, { voice: 'alloy', response_format: format })).body!.getReader()
        const early = await readUntilAudible(format, reader)
        // Only the first sentence has left the engine, and its audio is already here.
        assert.equal(speech.yielded - handedOut, FIRST_SENTENCE_CHUNKS)
        speech.release()
        const whole = Buffer.concat([early, await readRest(reader)])
        assert.equal(speech.yielded - handedOut, CHUNKS)
        const [least, most] = FORMATS[format].samples(SAMPLES_24K)
        const samples = await samplesOf(format, whole)
        assert.ok(samples >= least! && samples <= most!, `${samples} vs ${least}..${most}`)
        // The same speech, not held, is the very same bytes.
        const again = Buffer.from(
          await (await post(t.url, token, { voice: 'alloy', response_format: format })).arrayBuffer(),
        )
        assert.ok(whole.equals(again), `${format} bytes differ between two runs`)
      },
    )
  }

  test('a client that leaves mid-opus ends its synthesis, and the next opus answer is whole', LIVENESS, async () => {
    speech.holdAfter(FIRST_SENTENCE_CHUNKS)
    const leaving = new AbortController()
    const res = await fetch(`${t.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: TEXT, response_format: 'opus' }),
      signal: leaving.signal,
    })
    await readUntilAudible('opus', res.body!.getReader())
    leaving.abort()
    await eventually(() => speech.inFlight === 0, 'the synthesis ended')
    speech.release()
    const next = await post(t.url, token, { voice: 'alloy', response_format: 'opus' })
    const [least, most] = FORMATS.opus.samples(SAMPLES_24K)
    const samples = await samplesOf('opus', new Uint8Array(await next.arrayBuffer()))
    assert.ok(samples >= least! && samples <= most!, `${samples} vs ${least}..${most}`)
  })

  test('encodes at once share one libav.js and interleave: each is the very bytes it is alone', async () => {
    const body = async (format: Format, input = TEXT) =>
      Buffer.from(await (await post(t.url, token, { voice: 'alloy', response_format: format, input })).arrayBuffer())
    const other = 'Seven eight. Nine ten eleven.'
    const alone = [await body('opus'), await body('flac'), await body('opus', other), await body('flac', other)]
    const together = await Promise.all([body('opus'), body('flac'), body('opus', other), body('flac', other)])
    together.forEach((bytes, i) => assert.ok(bytes.equals(alone[i]!), `answer ${i} differs alongside others`))
  })
})

describe('gateway: the upstream’s PCM on the same streaming encoder', () => {
  /** What the fake upstream speaks: 0.5 s of a 440 Hz tone at 24 kHz, 16-bit, sent in two halves. */
  const SAMPLES = 12_000
  const PCM = Buffer.alloc(SAMPLES * 2)
  for (let i = 0; i < SAMPLES; i++)
    PCM.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000)), i * 2)
  let fake: FakeHttpUpstream
  let gw: TestServer
  let token: string
  before(async () => {
    fake = await FakeHttpUpstream.start()
    gw = await startTestServer({ upstreamUrl: fake.url, upstreamApiKey: 'sk_car_upstream-0123456789' })
    token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600 })
  })
  after(async () => {
    await gw.close()
    await fake.close()
  })

  for (const format of ['opus', 'flac'] as const) {
    test(`${format}: the first half arrives and decodes while the upstream holds the second`, LIVENESS, async () => {
      let sendRest!: () => void
      fake.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        res.write(PCM.subarray(0, PCM.length / 2))
        sendRest = () => res.end(PCM.subarray(PCM.length / 2))
      }
      const reader = (await post(gw.url, token, { voice: 'up-voice', response_format: format })).body!.getReader()
      const early = await readUntilAudible(format, reader)
      sendRest()
      const whole = Buffer.concat([early, await readRest(reader)])
      const [least, most] = FORMATS[format].samples(SAMPLES)
      const samples = await samplesOf(format, whole)
      assert.ok(samples >= least! && samples <= most!, `${samples} vs ${least}..${most}`)
    })
  }
})
