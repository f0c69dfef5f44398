/**
 * OpenAI's speech API served by voxgate, spoken to with the real `openai` SDK and an access token as
 * its API key: every response format decoded as audio, SSE, OpenAI's error shape, and the same stream
 * path (grant, limits, ledger) as `/tts/bytes`.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
import { MPEGDecoder } from 'mpg123-decoder'
import { OggOpusDecoder } from 'ogg-opus-decoder'
import { FLACDecoder } from '@wasm-audio-decoders/flac'
import { countCharacters, OPENAI_SPEECH_INPUT_MAX_CHARS } from '@voxgate/protocol'
import { DETERMINISTIC_RATE, DETERMINISTIC_WORD_MS } from '../helpers/deterministic-engine.ts'
import { parseWavHeader } from '../helpers/audio.ts'
import { decodedSamples } from '../helpers/decoded-audio.ts'
import { AAC_SLACK_SAMPLES, ffmpegToPcm } from '../helpers/ffmpeg.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { startSpeechServer } from '../helpers/speech.ts'
import type { TestServer } from '../helpers/server.ts'
import { OPENAI_VOICES } from '../../src/openai/voices.ts'

let t: TestServer
let voice: string
let token: string
let openai: OpenAI
before(async () => {
  ;({ t, voice } = await startSpeechServer())
  token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600, sub: 'oa' })
  openai = new OpenAI({ apiKey: token, baseURL: `${t.url}/v1`, maxRetries: 0 })
})
after(() => t.close())

const TEXT = 'One two three four. Five six.'
const WORDS = 6
/** Samples of TEXT at 24 kHz: the deterministic engine's 60 ms a word at 16 kHz, resampled exactly. */
const SAMPLES_24K = WORDS * Math.round((DETERMINISTIC_RATE * DETERMINISTIC_WORD_MS) / 1000) * (24000 / 16000)

type Format = 'mp3' | 'wav' | 'pcm' | 'opus' | 'flac' | 'aac'
async function speak(extra: { response_format?: Format; speed?: number; input?: string } = {}) {
  const res = await openai.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: TEXT, ...extra })
  return { type: res.headers.get('content-type'), bytes: new Uint8Array(await res.arrayBuffer()) }
}

/** The OpenAI SDK's error for a refused call, or a failure if the call succeeded. */
async function refusal(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, String(err))
    return err
  }
  assert.fail('the call was not refused')
}

describe('POST /v1/audio/speech with the openai SDK', () => {
  test('the default is MP3 at 24 kHz, and it decodes to the speech length', async () => {
    const { type, bytes } = await speak()
    assert.equal(type, 'audio/mpeg')
    const d = await decodedSamples(new MPEGDecoder(), bytes)
    assert.equal(d.sampleRate, 24000)
    // LAME adds its encoder delay and pads the last frame (1152 samples).
    assert.ok(d.samples >= SAMPLES_24K && d.samples <= SAMPLES_24K + 3 * 1152, `${d.samples} vs ${SAMPLES_24K}`)
  })

  test('pcm is 24 kHz 16-bit little-endian mono: exactly the speech length', async () => {
    const { type, bytes } = await speak({ response_format: 'pcm' })
    assert.equal(type, 'audio/pcm')
    assert.equal(bytes.length, SAMPLES_24K * 2)
  })

  test('wav is a 24 kHz 16-bit mono WAV', async () => {
    const { type, bytes } = await speak({ response_format: 'wav' })
    assert.equal(type, 'audio/wav')
    const h = parseWavHeader(bytes)
    assert.deepEqual([h.format, h.channels, h.sampleRate, h.bitsPerSample], [1, 1, 24000, 16])
    assert.equal(bytes.length - h.dataOffset, SAMPLES_24K * 2)
  })

  test('flac is lossless: it decodes to the very samples of pcm', async () => {
    const { type, bytes } = await speak({ response_format: 'flac' })
    assert.equal(type, 'audio/flac')
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('latin1'), 'fLaC')
    const d = await decodedSamples(new FLACDecoder(), bytes)
    const pcm = (await speak({ response_format: 'pcm' })).bytes
    const s16 = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2)
    assert.equal(d.sampleRate, 24000)
    assert.equal(d.samples, s16.length)
    assert.deepEqual(
      d.channelData.map((s) => Math.round(s * 32768)),
      Array.from(s16),
    )
  })

  test('opus is Ogg Opus and decodes to the speech length (at 48 kHz, as Opus decoders output)', async () => {
    const { type, bytes } = await speak({ response_format: 'opus' })
    assert.equal(type, 'audio/ogg; codecs=opus')
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('latin1'), 'OggS')
    const d = await decodedSamples(new OggOpusDecoder(), bytes)
    assert.equal(d.sampleRate, 48000)
    const want = SAMPLES_24K * 2
    // The last Opus frame is whole (20 ms at 48 kHz = 960 samples), so at most that much longer.
    assert.ok(d.samples >= want && d.samples <= want + 960, `${d.samples} vs ${want}`)
  })

  test('aac is ADTS made by ffmpeg, and ffmpeg decodes it to the speech length', async () => {
    const { type, bytes } = await speak({ response_format: 'aac' })
    assert.equal(type, 'audio/aac')
    // Every ADTS frame starts with the 12-bit sync word.
    assert.deepEqual([bytes[0], bytes[1]! & 0xf0], [0xff, 0xf0])
    const samples = ffmpegToPcm(bytes, 24000).length
    assert.ok(samples >= SAMPLES_24K && samples <= SAMPLES_24K + AAC_SLACK_SAMPLES, `${samples} vs ${SAMPLES_24K}`)
  })

  test('aac without ffmpeg (--ffmpeg /nonexistent) is a 400 in OpenAI shape naming the formats that work', async () => {
    const { t: bare } = await startSpeechServer({ ffmpegPath: '/nonexistent' })
    try {
      const sdk = new OpenAI({ apiKey: bare.apiKey, baseURL: `${bare.url}/v1`, maxRetries: 0 })
      const err = await refusal(
        sdk.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: TEXT, response_format: 'aac' }),
      )
      assert.equal(err.status, 400)
      assert.equal(err.code, 'unsupported_output_format')
      assert.equal(err.type, 'invalid_request_error')
      assert.match(
        err.message,
        /aac needs ffmpeg, and this server found none at start \(--ffmpeg\); use one of mp3, wav, pcm, opus, flac\.$/,
      )
      assert.match(bare.logs.text(), /no ffmpeg found: response_format aac is refused/)
    } finally {
      await bare.close()
    }
  })

  test('a format voxgate does not know is a 400 naming every format it makes, aac included', async () => {
    const err = await refusal(speak({ response_format: 'ogg' as 'mp3' }))
    assert.equal(err.code, 'unsupported_output_format')
    assert.match(err.message, /use one of mp3, wav, pcm, opus, flac, aac\.$/)
  })

  test('stream_format sse: speech.audio.delta events carry the pcm bytes, then one speech.audio.done with usage', async () => {
    const res = await openai.audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'nova',
      input: TEXT,
      response_format: 'pcm',
      stream_format: 'sse',
    })
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    const events = (await res.text())
      .split('\n\n')
      .filter((f) => f !== '')
      .map((f) => {
        assert.match(f, /^data: /)
        return JSON.parse(f.slice('data: '.length))
      })
    const done = events.pop()
    assert.ok(events.length > 0 && events.every((e) => e.type === 'speech.audio.delta'))
    const audio = Buffer.concat(events.map((e) => Buffer.from(e.audio, 'base64')))
    assert.equal(audio.length, SAMPLES_24K * 2)
    const characters = countCharacters(TEXT)
    assert.deepEqual(done, {
      type: 'speech.audio.done',
      usage: { input_tokens: characters, output_tokens: 0, total_tokens: characters },
    })
  })

  test('speed: 4.0 is taken and clamped to the engines’ fastest (1.5); 4.01 and 0.24 are refused', async () => {
    const fastest = (await speak({ response_format: 'pcm', speed: 4 })).bytes.length
    assert.ok(fastest < SAMPLES_24K * 2)
    assert.equal(fastest, (await speak({ response_format: 'pcm', speed: 1.5 })).bytes.length)
    for (const speed of [4.01, 0.24]) {
      const err = await refusal(speak({ speed }))
      assert.equal(err.status, 400)
      assert.equal(err.code, 'invalid_request')
    }
  })

  test(`input: ${OPENAI_SPEECH_INPUT_MAX_CHARS} characters speak, one more is 400 transcript_too_long`, async () => {
    const edge = 'a '.repeat(OPENAI_SPEECH_INPUT_MAX_CHARS / 2)
    assert.equal((await speak({ response_format: 'pcm', input: edge })).bytes.length > 0, true)
    const err = await refusal(speak({ input: `${edge}b` }))
    assert.equal(err.status, 400)
    assert.equal(err.code, 'transcript_too_long')
  })

  test('models: OpenAI’s and voxgate’s ids speak, an unknown one is 400 model_not_found', async () => {
    for (const model of ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts', 'voxgate-auto', 'sonic-3']) {
      const res = await openai.audio.speech.create({ model, voice: 'echo', input: TEXT, response_format: 'pcm' })
      assert.equal((await res.arrayBuffer()).byteLength, SAMPLES_24K * 2, model)
    }
    const err = await refusal(openai.audio.speech.create({ model: 'tts-9', voice: 'alloy', input: TEXT }))
    assert.equal(err.code, 'model_not_found')
  })

  test('voices: every OpenAI name, a voxgate id and {id} speak; an unknown voice is 404 voice_not_found', async () => {
    const voices: unknown[] = [...OPENAI_VOICES.keys(), voice, { id: voice }]
    assert.equal(OPENAI_VOICES.size, 11)
    for (const v of voices) {
      const res = await call(t.url, '/v1/audio/speech', {
        headers: bearer(token),
        body: { model: 'tts-1', voice: v, input: TEXT, response_format: 'pcm' },
      })
      assert.equal(res.status, 200, JSON.stringify(v))
    }
    const err = await refusal(openai.audio.speech.create({ model: 'tts-1', voice: 'nobody', input: TEXT }))
    assert.equal(err.status, 404)
    assert.equal(err.code, 'voice_not_found')
  })

  test('instructions are accepted and change nothing', async () => {
    const res = await openai.audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'alloy',
      input: TEXT,
      response_format: 'pcm',
      instructions: 'Speak like a pirate.',
    })
    assert.equal((await res.arrayBuffer()).byteLength, SAMPLES_24K * 2)
  })
})

describe('the same stream path as /tts/bytes', () => {
  test('the guard’s 401 and 403 are in OpenAI’s shape on /v1, Cartesia’s elsewhere', async () => {
    const bad = new OpenAI({ apiKey: 'not-a-token', baseURL: `${t.url}/v1`, maxRetries: 0 })
    const e401 = await refusal(bad.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: TEXT }))
    assert.equal(e401.status, 401)
    assert.equal(e401.code, 'invalid_credentials')
    const sttOnly = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 60 })
    const res = await call(t.url, '/v1/audio/speech', {
      headers: bearer(sttOnly),
      body: { model: 'tts-1', voice: 'alloy', input: TEXT },
    })
    assert.equal(res.status, 403)
    assert.deepEqual(Object.keys(res.json), ['error'])
    assert.deepEqual(
      { ...res.json.error, message: typeof res.json.error.message },
      { message: 'string', type: 'invalid_request_error', param: null, code: 'insufficient_scope' },
    )
    const cartesia = await call(t.url, '/audio/speech', { headers: bearer(sttOnly), body: {} })
    assert.equal(cartesia.status, 403)
    assert.equal(cartesia.json.error_code, 'insufficient_scope')
    const notFound = await call(t.url, '/v1/nothing', { headers: bearer(token) })
    assert.equal(notFound.status, 404)
    assert.equal(notFound.json.error.code, 'not_found')
  })

  test('the ledger counts the same characters for /v1/audio/speech and /tts/bytes', async () => {
    const viaOpenAi = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 60, sub: 'via-openai' })
    const viaBytes = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 60, sub: 'via-bytes' })
    const spoken = await call(t.url, '/v1/audio/speech', {
      headers: bearer(viaOpenAi),
      body: { model: 'tts-1', voice, input: TEXT },
    })
    assert.equal(spoken.status, 200)
    const bytes = await call(t.url, '/tts/bytes', {
      headers: bearer(viaBytes),
      body: { model_id: 'sonic-3', voice, transcript: TEXT, output_format: { container: 'mp3', sample_rate: 24000 } },
    })
    assert.equal(bytes.status, 200)
    const usage = async () => {
      const res = await call(t.url, '/usage?group_by=sub', { headers: bearer(t.apiKey) })
      return Object.fromEntries(
        (res.json.data as { sub: string; characters: number; streams: number }[]).map((r) => [r.sub, r]),
      )
    }
    await eventually(async () => {
      const u = await usage()
      return u['via-openai']?.streams === 1 && u['via-bytes']?.streams === 1
    }, 'both streams settled')
    const u = await usage()
    assert.equal(u['via-openai']?.characters, countCharacters(TEXT))
    assert.equal(u['via-bytes']?.characters, countCharacters(TEXT))
  })

  test('a token’s voice allowlist applies to the voxgate voice an OpenAI name maps to', async () => {
    const other = [...new Set(OPENAI_VOICES.values())].find((id) => id !== OPENAI_VOICES.get('alloy'))
    const limited = await mint(t.url, t.apiKey, {
      grants: { tts: true },
      expires_in: 60,
      limits: { voices: [OPENAI_VOICES.get('alloy')] },
    })
    const ok = await call(t.url, '/v1/audio/speech', {
      headers: bearer(limited),
      body: { model: 'tts-1', voice: 'alloy', input: TEXT },
    })
    assert.equal(ok.status, 200)
    const refused = await call(t.url, '/v1/audio/speech', {
      headers: bearer(limited),
      body: { model: 'tts-1', voice: other, input: TEXT },
    })
    assert.equal(refused.status, 403)
    assert.equal(refused.json.error.code, 'voice_not_allowed')
  })
})
