/**
 * OpenAI's speech and transcription routes in gateway mode, spoken to with the real `openai` SDK and
 * a voxgate token: translated onto the upstream's `/tts/bytes` and `/audio/transcriptions` (a
 * recording fake upstream here, the network edge; a real voxgate upstream in gateway-chain.test.ts),
 * the voice map, the formats voxgate encodes itself, and the checks and charges of a relayed stream.
 * Over 400 lines: speech and transcription share the SDK client, the fake upstream and the voice map
 * set up once here; split them into two files if either grows.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { OggOpusDecoder } from 'ogg-opus-decoder'
import { FLACDecoder } from '@wasm-audio-decoders/flac'
import { API_VERSION, countCharacters } from '@voxgate/protocol'
import { bearer, call, mint } from '../helpers/http.ts'
import { answerError, FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { AAC_SLACK_SAMPLES, ffmpegChildren, ffmpegToPcm } from '../helpers/ffmpeg.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { StartError } from '../../src/start-errors.ts'
import { mulawWav } from '../gateway/upload-audio.ts'

const UPSTREAM_KEY = 'sk_car_upstream-secret-openai-0123456789'
const VOICE_MAP = { alloy: 'up-alloy', nova: 'up-nova' }
const INPUT = 'Hello from the OpenAI route.'
/** What the fake upstream speaks: 0.5 s of a 440 Hz tone at 24 kHz, 16-bit. */
const SAMPLES = 12_000
const PCM = Buffer.alloc(SAMPLES * 2)
for (let i = 0; i < SAMPLES; i++) PCM.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000)), i * 2)
const MP3 = Buffer.from('ID3 pretend mp3 bytes from the upstream')

const root = mkdtempSync(path.join(tmpdir(), 'voxgate-openai-gw-'))
let fake: FakeHttpUpstream
let gw: TestServer
let token: string
let openai: OpenAI
before(async () => {
  fake = await FakeHttpUpstream.start()
  const mapFile = path.join(root, 'voices.json')
  writeFileSync(mapFile, JSON.stringify(VOICE_MAP))
  gw = await startTestServer({
    upstreamUrl: fake.url,
    upstreamApiKey: UPSTREAM_KEY,
    upstreamTimeoutMs: 2000,
    openAiVoiceMapFile: mapFile,
    sttUploadLimitBytes: 64 * 1024,
  })
  token = await mint(gw.url, gw.apiKey, { grants: { tts: true, stt: true }, expires_in: 600, sub: 'oa-gw' })
  openai = new OpenAI({ apiKey: token, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  fake.reset()
})
afterEach(async () => {
  await fake.until(() => fake.open === 0)
  fake.reset()
})
after(async () => {
  await gw.close()
  await fake.close()
  rmSync(root, { recursive: true, force: true })
  assert.ok(!gw.logs.text().includes(UPSTREAM_KEY))
})

/** The fake speaks: `MP3` for an MP3 request, else the tone as the PCM (or WAV) asked for. */
function speakAsUpstream() {
  fake.handler = (_req, res, body) => {
    const container = JSON.parse(body.toString()).output_format.container
    res.writeHead(200, { 'content-type': container === 'mp3' ? 'audio/mpeg' : 'application/octet-stream' })
    res.end(container === 'mp3' ? MP3 : PCM)
  }
}

const sentBody = (i = 0) => JSON.parse(fake.requests[i]!.body.toString())

async function speak(extra: Partial<OpenAI.Audio.SpeechCreateParams> = {}) {
  speakAsUpstream()
  const res = await openai.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: INPUT, ...extra })
  return { type: res.headers.get('content-type'), bytes: new Uint8Array(await res.arrayBuffer()) }
}

async function refusal(pending: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await pending
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, String(err))
    return err
  }
  assert.fail('the call was not refused')
}

interface Decoded {
  samplesDecoded: number
  sampleRate: number
  channelData: Float32Array[]
}

/** Decodes a whole file (its last frames come with `flush`). */
async function decode(
  decoder: { ready: Promise<void>; decode(b: Uint8Array): unknown; flush?: () => unknown; free(): void },
  bytes: Uint8Array,
): Promise<{ samples: number; sampleRate: number; channel: number[] }> {
  await decoder.ready
  try {
    const parts = [(await decoder.decode(bytes)) as Decoded]
    if (decoder.flush) parts.push((await decoder.flush()) as Decoded)
    return {
      samples: parts.reduce((n, p) => n + p.samplesDecoded, 0),
      sampleRate: parts[0]!.sampleRate,
      channel: parts.flatMap((p) => Array.from(p.channelData[0] ?? [])),
    }
  } finally {
    decoder.free()
  }
}

describe('POST /v1/audio/speech through a gateway: the upstream gets /tts/bytes', () => {
  test('mp3 (the default): the voice mapped, sonic-3, Cartesia-Version, the upstream key; the bytes as sent', async () => {
    const { type, bytes } = await speak()
    assert.equal(type, 'audio/mpeg')
    assert.deepEqual(Buffer.from(bytes), MP3)
    assert.equal(fake.requests.length, 1)
    const sent = fake.requests[0]!
    assert.equal(sent.url, '/tts/bytes')
    assert.equal(sent.headers['x-api-key'], UPSTREAM_KEY)
    assert.equal(sent.headers['cartesia-version'], API_VERSION)
    assert.equal(sent.headers['content-type'], 'application/json')
    assert.ok(!sent.rawHeaderNames.includes('authorization'))
    assert.deepEqual(sentBody(), {
      model_id: 'sonic-3',
      transcript: INPUT,
      voice: { mode: 'id', id: 'up-alloy' },
      output_format: { container: 'mp3', sample_rate: 24000, bit_rate: 128000 },
    })
  })

  test('pcm and wav are the upstream’s own, 24 kHz 16-bit', async () => {
    const pcm = await speak({ response_format: 'pcm' })
    assert.equal(pcm.type, 'audio/pcm')
    assert.deepEqual(Buffer.from(pcm.bytes), PCM)
    assert.deepEqual(sentBody().output_format, { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 })
    fake.reset()
    const wav = await speak({ response_format: 'wav' })
    assert.equal(wav.type, 'audio/wav')
    assert.deepEqual(sentBody().output_format, { container: 'wav', encoding: 'pcm_s16le', sample_rate: 24000 })
  })

  test('flac, which Cartesia lacks, is fetched as PCM and encoded here: it decodes to the very samples', async () => {
    const { type, bytes } = await speak({ response_format: 'flac' })
    assert.equal(type, 'audio/flac')
    assert.deepEqual(sentBody().output_format, { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 })
    const d = await decode(new FLACDecoder(), bytes)
    assert.equal(d.sampleRate, 24000)
    assert.equal(d.samples, SAMPLES)
    const want = new Int16Array(PCM.buffer, PCM.byteOffset, SAMPLES)
    assert.deepEqual(
      d.channel.map((s) => Math.round(s * 32768)),
      Array.from(want),
    )
  })

  test('opus is fetched as PCM and encoded here: Ogg Opus of the speech’s length', async () => {
    const { type, bytes } = await speak({ response_format: 'opus' })
    assert.equal(type, 'audio/ogg; codecs=opus')
    assert.deepEqual(sentBody().output_format, { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 })
    const d = await decode(new OggOpusDecoder(), bytes)
    assert.equal(d.sampleRate, 48000)
    assert.ok(d.samples >= SAMPLES * 2 && d.samples <= SAMPLES * 2 + 960, `${d.samples}`)
  })

  test('aac is fetched as PCM and encoded by ffmpeg: ADTS that ffmpeg decodes to the speech’s length', async () => {
    const { type, bytes } = await speak({ response_format: 'aac' })
    assert.equal(type, 'audio/aac')
    assert.deepEqual(sentBody().output_format, { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 })
    // ADTS frames start with the 12-bit sync word.
    assert.deepEqual([bytes[0], bytes[1]! & 0xf0], [0xff, 0xf0])
    const samples = ffmpegToPcm(bytes, 24000).length
    assert.ok(samples >= SAMPLES && samples <= SAMPLES + AAC_SLACK_SAMPLES, `${samples}`)
  })

  test('a client that leaves mid-aac: ffmpeg is killed and the upstream request dropped', async () => {
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(PCM)
    }
    const client = new AbortController()
    const res = await fetch(`${gw.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: INPUT, response_format: 'aac' }),
      signal: client.signal,
    })
    assert.equal(res.status, 200)
    await eventually(() => ffmpegChildren().length === 1, 'ffmpeg encoding')
    client.abort()
    await eventually(() => ffmpegChildren().length === 0, 'ffmpeg killed')
    await fake.until(() => fake.open === 0)
  })

  test('stream_format sse: the upstream’s audio in speech.audio.delta events, then speech.audio.done with usage', async () => {
    speakAsUpstream()
    const res = await openai.audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'nova',
      input: INPUT,
      response_format: 'pcm',
      stream_format: 'sse',
    })
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    const events = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((f) => JSON.parse(f.slice('data: '.length)))
    const done = events.pop()
    assert.deepEqual(Buffer.concat(events.map((e) => Buffer.from(e.audio, 'base64'))), PCM)
    const n = countCharacters(INPUT)
    assert.deepEqual(done, { type: 'speech.audio.done', usage: { input_tokens: n, output_tokens: 0, total_tokens: n } })
    assert.equal(sentBody().voice.id, 'up-nova')
  })

  test('another voice string is an upstream voice id, sent as it is; {id} too; other models and speed go on', async () => {
    await speak({ voice: 'f9836c6e-a0bd-460e-9d3c-f7299fa60f94', model: 'sonic-2', speed: 4, response_format: 'pcm' })
    assert.deepEqual(
      [sentBody().voice, sentBody().model_id, sentBody().generation_config],
      [{ mode: 'id', id: 'f9836c6e-a0bd-460e-9d3c-f7299fa60f94' }, 'sonic-2', { speed: 1.5 }],
    )
    const res = await call(gw.url, '/audio/speech', {
      headers: bearer(token),
      body: { model: 'tts-1', voice: { id: 'up-7' }, input: INPUT, response_format: 'pcm' },
    })
    assert.equal(res.status, 200)
    assert.equal(sentBody(1).voice.id, 'up-7')
  })

  test('an OpenAI voice the map leaves out is 400 naming the voice and --openai-voice-map, never relayed', async () => {
    const err = await refusal(speak({ voice: 'echo' }))
    assert.equal(err.status, 400)
    assert.equal(err.code, 'invalid_request')
    assert.match(err.message, /"echo"/)
    assert.match(err.message, /--openai-voice-map/)
    assert.equal(fake.requests.length, 0)
  })

  test('an upstream refusal is passed on in OpenAI’s shape, its key scrubbed', async () => {
    fake.handler = answerError(404, 'voice_not_found', `no such voice (key ${UPSTREAM_KEY})`)
    const err = await refusal(
      openai.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: INPUT, response_format: 'pcm' }),
    )
    assert.equal(err.status, 404)
    assert.equal(err.code, 'voice_not_found')
    assert.ok(!err.message.includes(UPSTREAM_KEY))
  })

  test('aac on a gateway without ffmpeg is 400, naming the formats that work, never relayed', async () => {
    const bare = await startTestServer({
      upstreamUrl: fake.url,
      upstreamApiKey: UPSTREAM_KEY,
      ffmpegPath: '/nonexistent',
    })
    try {
      fake.reset()
      const t = await mint(bare.url, bare.apiKey, { grants: { tts: true }, expires_in: 60 })
      const res = await call(bare.url, '/v1/audio/speech', {
        headers: bearer(t),
        body: { model: 'tts-1', voice: 'some-upstream-voice', input: INPUT, response_format: 'aac' },
      })
      assert.equal(res.status, 400)
      assert.equal(res.json.error.code, 'unsupported_output_format')
      assert.match(res.json.error.message, /use one of mp3, wav, pcm, opus, flac\.$/)
      assert.equal(fake.requests.length, 0)
    } finally {
      await bare.close()
    }
  })
})

describe('the checks and charges of a relayed /tts/bytes', () => {
  const refusals: [string, object, number, string][] = [
    ['a mapped voice outside limits.voices', { limits: { voices: ['up-nova'] } }, 403, 'voice_not_allowed'],
    ['an input past limits.characters', { limits: { characters: 5 } }, 429, 'quota_exceeded'],
    ['no tts grant', { grants: { stt: true } }, 403, 'insufficient_scope'],
  ]
  for (const [name, claims, status, code] of refusals) {
    test(`${name} → ${status} ${code} in OpenAI’s shape, never relayed`, async () => {
      const refused = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60, ...claims })
      const res = await call(gw.url, '/v1/audio/speech', {
        headers: bearer(refused),
        body: { model: 'tts-1', voice: 'alloy', input: INPUT },
      })
      assert.equal(res.status, status)
      assert.equal(res.json.error.code, code)
      assert.equal(fake.requests.length, 0)
    })
  }

  test('the ledger counts the same characters as a relayed /tts/bytes', async () => {
    const viaOpenAi = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60, sub: 'gw-openai' })
    const viaBytes = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60, sub: 'gw-bytes' })
    speakAsUpstream()
    const spoken = await call(gw.url, '/v1/audio/speech', {
      headers: bearer(viaOpenAi),
      body: { model: 'tts-1', voice: 'alloy', input: INPUT, response_format: 'opus' },
    })
    assert.equal(spoken.status, 200)
    const bytes = await call(gw.url, '/tts/bytes', {
      headers: { ...bearer(viaBytes), 'cartesia-version': API_VERSION },
      body: {
        model_id: 'sonic-3',
        voice: { mode: 'id', id: 'up-alloy' },
        transcript: INPUT,
        output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
      },
    })
    assert.equal(bytes.status, 200)
    const usage = async () => {
      const res = await call(gw.url, '/usage?group_by=sub', { headers: bearer(gw.apiKey) })
      const rows = res.json.data as { sub: string; characters: number; streams: number }[]
      return Object.fromEntries(rows.map((r) => [r.sub, r]))
    }
    await eventually(async () => {
      const u = await usage()
      return u['gw-openai']?.streams === 1 && u['gw-bytes']?.streams === 1
    }, 'both streams settled')
    const u = await usage()
    assert.equal(u['gw-openai']!.characters, countCharacters(INPUT))
    assert.deepEqual(u['gw-openai'], { ...u['gw-bytes'], sub: 'gw-openai' })
  })

  test('revoking the token cuts the relayed speech and drops the upstream request', async () => {
    const revocable = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60 })
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(PCM)
    }
    const pending = fetch(`${gw.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { ...bearer(revocable), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: INPUT, response_format: 'pcm' }),
    }).then((res) => res.arrayBuffer())
    await fake.until(() => fake.requests.length === 1)
    const revoke = await call(gw.url, '/access-token/revoke', {
      headers: bearer(gw.apiKey),
      body: { token: revocable },
    })
    assert.equal(revoke.status, 200)
    await assert.rejects(pending)
    await fake.until(() => fake.open === 0)
  })
})

describe('POST /v1/audio/transcriptions through a gateway: the upstream gets /audio/transcriptions', () => {
  const TRANSCRIPT = {
    type: 'transcript',
    text: 'Hello there. How are you',
    language: 'en',
    duration: 3,
    words: [
      { word: 'Hello', start: 0.1, end: 0.4 },
      { word: 'there.', start: 0.45, end: 0.8 },
      { word: 'How', start: 1.5, end: 1.7 },
      { word: 'are', start: 1.75, end: 1.9 },
      { word: 'you', start: 1.95, end: 2.3 },
    ],
  }
  const file = () => toFile(mulawWav(1), 'a.wav', { type: 'audio/wav' })
  const answerTranscript = () => {
    fake.handler = (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(TRANSCRIPT))
  }
  const sentForm = async () => {
    const sent = fake.requests[0]!
    return new Response(new Uint8Array(sent.body), {
      headers: { 'content-type': sent.headers['content-type']! },
    }).formData()
  }

  test('json: the upstream’s transcript as it came; whisper-1 goes as ink-whisper; one second charged', async () => {
    answerTranscript()
    const listener = await mint(gw.url, gw.apiKey, { grants: { stt: true }, expires_in: 60 })
    const sdk = new OpenAI({ apiKey: listener, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const r = await sdk.audio.transcriptions.create({ file: await file(), model: 'whisper-1', language: 'en' })
    assert.deepEqual(r, TRANSCRIPT)
    assert.equal(fake.requests[0]!.url, '/audio/transcriptions')
    const form = await sentForm()
    assert.equal(form.get('model'), 'ink-whisper')
    assert.equal(form.get('language'), 'en')
    assert.equal(form.get('response_format'), null)
    assert.equal(form.get('timestamp_granularities[]'), null)
    const self = await call(gw.url, '/access-token/self', { headers: bearer(listener) })
    assert.equal(self.json.usage.audio_seconds, 1)
  })

  test('text: the plain text; the upstream is asked for JSON with word times', async () => {
    answerTranscript()
    const res = await openai.audio.transcriptions
      .create({ file: await file(), model: 'gpt-4o-transcribe', response_format: 'text' })
      .asResponse()
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    assert.equal(await res.text(), TRANSCRIPT.text)
    const form = await sentForm()
    assert.equal(form.get('response_format'), null)
    assert.deepEqual(form.getAll('timestamp_granularities[]'), ['word'])
  })

  test('srt and vtt: a cue per sentence or pause, from the upstream’s word times', async () => {
    answerTranscript()
    const srt = await openai.audio.transcriptions.create({
      file: await file(),
      model: 'whisper-1',
      response_format: 'srt',
    })
    assert.equal(
      srt as unknown as string,
      '1\n00:00:00,100 --> 00:00:00,800\nHello there.\n\n2\n00:00:01,500 --> 00:00:02,300\nHow are you\n\n',
    )
    const vtt = await openai.audio.transcriptions.create({
      file: await file(),
      model: 'whisper-1',
      response_format: 'vtt',
    })
    assert.equal(
      vtt as unknown as string,
      'WEBVTT\n\n00:00:00.100 --> 00:00:00.800\nHello there.\n\n00:00:01.500 --> 00:00:02.300\nHow are you\n\n',
    )
  })

  test('verbose_json: language, duration, segments; words only when asked for', async () => {
    answerTranscript()
    const r = await openai.audio.transcriptions.create({
      file: await file(),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    })
    assert.deepEqual([r.language, r.duration, r.text], ['english', 3, TRANSCRIPT.text])
    assert.deepEqual(
      r.segments?.map((s) => [s.text, s.start, s.end]),
      [
        ['Hello there.', 0.1, 0.8],
        ['How are you', 1.5, 2.3],
      ],
    )
    assert.deepEqual(r.words, TRANSCRIPT.words)
    assert.deepEqual((await sentForm()).getAll('timestamp_granularities[]'), ['word', 'segment'])
    fake.reset()
    answerTranscript()
    const plain = await openai.audio.transcriptions.create({
      file: await file(),
      model: 'whisper-1',
      response_format: 'verbose_json',
    })
    assert.equal(plain.words, undefined)
    assert.equal(plain.segments?.length, 2)
  })

  test('stream: a transcript.text.delta per segment, then transcript.text.done', async () => {
    answerTranscript()
    const stream = await openai.audio.transcriptions.create({ file: await file(), model: 'whisper-1', stream: true })
    const events = []
    for await (const e of stream) events.push(e)
    assert.deepEqual(events, [
      { type: 'transcript.text.delta', delta: 'Hello there.' },
      { type: 'transcript.text.delta', delta: ' How are you' },
      { type: 'transcript.text.done', text: TRANSCRIPT.text },
    ])
  })

  test('an unknown response_format is 400 before the upstream sees the upload; tts only is 403', async () => {
    const f = new FormData()
    f.append('model', 'whisper-1')
    f.append('response_format', 'mp3')
    f.append('file', new Blob([new Uint8Array(mulawWav(1))]), 'a.wav')
    const res = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: bearer(token), body: f })
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_request')
    const speaker = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60 })
    const sdk = new OpenAI({ apiKey: speaker, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const err = await refusal(sdk.audio.transcriptions.create({ file: await file(), model: 'whisper-1' }))
    assert.equal(err.status, 403)
    assert.equal(err.code, 'insufficient_scope')
    assert.equal(fake.requests.length, 0)
  })
})

describe('GET /v1/models through a gateway', () => {
  test('lists OpenAI’s names only: other model ids are the upstream’s', async () => {
    const list = await openai.models.list()
    assert.deepEqual(
      list.data.map((m) => m.id),
      ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts', 'whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe'],
    )
  })
})

describe('--openai-voice-map: checked whole at start', () => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{alloy: x}', /JSON/],
    ['not an object', '["up-alloy"]', /expected a JSON object/],
    ['a key that is no OpenAI voice', '{"alloy": "a", "alloyy": "b"}', /"alloyy" is not an OpenAI voice name/],
    ['a value that is no voice id', '{"nova": "../voices"}', /"nova" must map to a voice id .* not "\.\.\/voices"/],
    ['a value that is not a string', '{"nova": 7}', /"nova" must map to a voice id .* not 7/],
  ]
  for (const [name, text, reason] of cases) {
    test(`${name}: the start fails naming the file and the entry`, async () => {
      const file = path.join(root, `map-${cases.findIndex((c) => c[0] === name)}.json`)
      writeFileSync(file, text)
      await assert.rejects(
        startTestServer({ upstreamUrl: fake.url, upstreamApiKey: UPSTREAM_KEY, openAiVoiceMapFile: file }),
        (err: unknown) => {
          assert.ok(err instanceof StartError)
          assert.equal(err.code, 'bad_openai_voice_map')
          assert.ok(err.message.startsWith(`cannot use --openai-voice-map ${file}: `), err.message)
          assert.match(err.message, reason)
          return true
        },
      )
    })
  }

  test('a missing file names the file; without --upstream the option is refused', async () => {
    const missing = path.join(root, 'nowhere.json')
    await assert.rejects(
      startTestServer({ upstreamUrl: fake.url, upstreamApiKey: UPSTREAM_KEY, openAiVoiceMapFile: missing }),
      new RegExp(`^StartError: cannot use --openai-voice-map ${missing}: ENOENT`),
    )
    await assert.rejects(startTestServer({ openAiVoiceMapFile: missing }), /--openai-voice-map is for gateway mode/)
  })
})
