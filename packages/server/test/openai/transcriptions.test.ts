/**
 * OpenAI's transcription API and the AI SDK, spoken to with the real `openai` SDK and `@ai-sdk/openai`
 * and an access token as the API key: every response format, the stream, the grant, the model list,
 * and a round trip from OpenAI's speech route through the real engines to the real recogniser.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { createOpenAI } from '@ai-sdk/openai'
import { experimental_generateSpeech as generateSpeech, experimental_transcribe as transcribe } from 'ai'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { FIXTURE_SENTENCE } from '../stt/fixtures/sentence.ts'
import { wer } from '../stt/helpers.ts'

const FLAC = readFileSync(path.join(import.meta.dirname, '../stt/fixtures/speech.flac'))

let t: TestServer
let token: string
let openai: OpenAI
before(async () => {
  t = await startTestServer({ speech: 'real' })
  token = await mint(t.url, t.apiKey, { grants: { tts: true, stt: true }, expires_in: 600 })
  openai = new OpenAI({ apiKey: token, baseURL: `${t.url}/v1`, maxRetries: 0 })
})
after(() => t.close())

const file = () => toFile(FLAC, 'speech.flac', { type: 'audio/flac' })
const closeTo = (reference: string, hypothesis: string) => {
  const w = wer(reference, hypothesis)
  assert.ok(w.errors / w.words <= 0.15, `"${hypothesis}" (${w.errors}/${w.words} errors)`)
}

describe('POST /v1/audio/transcriptions with the openai SDK', () => {
  let json: { text: string; duration: number }
  before(async () => {
    json = (await openai.audio.transcriptions.create({ file: await file(), model: 'whisper-1' })) as never
  })

  test('json (the default): the text, from whisper-1 taken as the default STT model', () => {
    closeTo(FIXTURE_SENTENCE, json.text)
  })

  test('gpt-4o-transcribe and gpt-4o-mini-transcribe are aliases too; an unknown model is 400 in OpenAI shape', async () => {
    for (const model of ['gpt-4o-transcribe', 'gpt-4o-mini-transcribe']) {
      const r = await openai.audio.transcriptions.create({ file: await file(), model })
      assert.equal(r.text, json.text)
    }
    try {
      await openai.audio.transcriptions.create({ file: await file(), model: 'whisper-9' })
      assert.fail('accepted')
    } catch (err) {
      assert.ok(err instanceof OpenAI.BadRequestError)
      assert.equal(err.code, 'model_not_found')
    }
  })

  test('text: the plain text body', async () => {
    const res = await openai.audio.transcriptions
      .create({ file: await file(), model: 'whisper-1', response_format: 'text' })
      .asResponse()
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    assert.equal(await res.text(), json.text)
  })

  test('verbose_json: language, duration, segments, and words when asked for', async () => {
    const r = await openai.audio.transcriptions.create({
      file: await file(),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
      language: 'en',
      prompt: 'A pangram.',
      temperature: 0,
    })
    assert.equal(r.language, 'english')
    assert.equal(r.duration, json.duration)
    assert.equal(r.text, json.text)
    assert.ok(r.segments && r.segments.length > 0)
    assert.equal(r.segments.map((s) => s.text).join(' '), r.text)
    assert.ok(r.words && r.words.map((w) => w.word).join(' ') === r.text)
    for (const w of r.words) assert.ok(w.start < w.end && w.end <= r.duration)
    const segmentsOnly = await openai.audio.transcriptions.create({
      file: await file(),
      model: 'whisper-1',
      response_format: 'verbose_json',
    })
    assert.equal(segmentsOnly.words, undefined)
    assert.deepEqual(
      segmentsOnly.segments?.map((s) => s.text),
      r.segments.map((s) => s.text),
    )
  })

  test('srt and vtt: one cue per segment, with its times', async () => {
    const asText = async (response_format: 'srt' | 'vtt') =>
      (await openai.audio.transcriptions.create({
        file: await file(),
        model: 'whisper-1',
        response_format,
      })) as unknown as string
    // The recogniser's times may move by a frame between runs; the text does not.
    const cue = (sep: string) => `(\\d\\d:\\d\\d:\\d\\d\\${sep}\\d{3}) --> (\\d\\d:\\d\\d:\\d\\d\\${sep}\\d{3})`
    const srt = await asText('srt')
    const s = new RegExp(`^1\\n${cue(',')}\\n([^\\n]+)\\n\\n`).exec(srt)
    assert.ok(s, srt)
    assert.ok(s[1]! < s[2]!, srt)
    assert.ok(json.text.startsWith(s[3]!), srt)
    const vtt = await asText('vtt')
    const v = new RegExp(`^WEBVTT\\n\\n${cue('.')}\\n([^\\n]+)\\n\\n`).exec(vtt)
    assert.ok(v, vtt)
    assert.ok(v[1]! < v[2]!, vtt)
    assert.ok(json.text.startsWith(v[3]!), vtt)
  })

  test('stream: transcript.text.delta events, then transcript.text.done with the whole text', async () => {
    const stream = await openai.audio.transcriptions.create({
      file: await file(),
      model: 'gpt-4o-mini-transcribe',
      stream: true,
    })
    let deltas = ''
    let done: string | undefined
    for await (const event of stream) {
      if (event.type === 'transcript.text.delta') deltas += event.delta
      if (event.type === 'transcript.text.done') done = event.text
    }
    assert.equal(done, json.text)
    assert.equal(deltas, json.text)
  })

  test('an unknown response_format is 400 invalid_request before any audio is charged', async () => {
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(FLAC)]), 'speech.flac')
    form.append('model', 'whisper-1')
    form.append('response_format', 'docx')
    const res = await fetch(`${t.url}/v1/audio/transcriptions`, { method: 'POST', headers: bearer(token), body: form })
    assert.equal(res.status, 400)
    const body = (await res.json()) as { error: { code: string; param: null } }
    assert.equal(body.error.code, 'invalid_request')
  })

  test('a token with tts only is refused: 403 insufficient_scope in OpenAI shape', async () => {
    const ttsOnly = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 60 })
    const client = new OpenAI({ apiKey: ttsOnly, baseURL: `${t.url}/v1`, maxRetries: 0 })
    try {
      await client.audio.transcriptions.create({ file: await file(), model: 'whisper-1' })
      assert.fail('accepted')
    } catch (err) {
      assert.ok(err instanceof OpenAI.PermissionDeniedError)
      assert.equal(err.status, 403)
      assert.equal(err.code, 'insufficient_scope')
      assert.equal(err.type, 'invalid_request_error')
    }
  })

  test('/audio/transcriptions (no /v1) honours response_format too, with Cartesia’s error shape', async () => {
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(FLAC)]), 'speech.flac')
    form.append('model', 'whisper-1')
    form.append('response_format', 'text')
    const res = await fetch(`${t.url}/audio/transcriptions`, { method: 'POST', headers: bearer(token), body: form })
    assert.equal(await res.text(), json.text)
    const refused = await call(t.url, '/audio/transcriptions', { headers: bearer('nope'), body: {} })
    assert.equal(refused.json.error_code, 'invalid_credentials')
  })
})

describe('GET /v1/models', () => {
  test('any valid credential lists the speech and transcription models in OpenAI’s shape', async () => {
    const voicesOnly = await mint(t.url, t.apiKey, { grants: { voices: true }, expires_in: 60 })
    const client = new OpenAI({ apiKey: voicesOnly, baseURL: `${t.url}/v1`, maxRetries: 0 })
    const ids = []
    for await (const model of client.models.list()) {
      assert.equal(model.object, 'model')
      ids.push(model.id)
    }
    for (const id of ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts', 'whisper-1', 'gpt-4o-transcribe', 'voxgate-auto'])
      assert.ok(ids.includes(id), id)
    const none = await call(t.url, '/v1/models', { headers: bearer('nope') })
    assert.equal(none.status, 401)
    assert.equal(none.json.error.code, 'invalid_credentials')
  })
})

describe('round trips through the real engines', () => {
  const SENTENCE = 'The weather is nice today.'

  test('openai SDK: speech as FLAC, then transcribed back to the sentence', async () => {
    const speech = await openai.audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: SENTENCE,
      response_format: 'flac',
    })
    const audio = new Uint8Array(await speech.arrayBuffer())
    const r = await openai.audio.transcriptions.create({
      file: await toFile(audio, 'speech.flac'),
      model: 'whisper-1',
    })
    closeTo(SENTENCE, r.text)
  })

  test('AI SDK: experimental_generateSpeech and experimental_transcribe through @ai-sdk/openai', async () => {
    const provider = createOpenAI({ apiKey: token, baseURL: `${t.url}/v1` })
    const speech = await generateSpeech({ model: provider.speech('tts-1'), text: SENTENCE, voice: 'alloy' })
    assert.equal(speech.audio.mediaType, 'audio/mpeg')
    const heard = await transcribe({
      model: provider.transcription('whisper-1'),
      audio: speech.audio.uint8Array,
      // Words make the provider ask for verbose_json, which carries language, duration and times.
      providerOptions: { openai: { timestampGranularities: ['word'] } },
    })
    closeTo(SENTENCE, heard.text)
    assert.equal(heard.language, 'en')
    assert.ok(heard.segments.length > 0)
    assert.ok((heard.durationInSeconds ?? 0) > 0.5)
  })
})
