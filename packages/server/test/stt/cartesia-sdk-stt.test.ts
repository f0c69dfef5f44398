/**
 * The official @cartesia/cartesia-js v4, unchanged but for `baseURL`, listening through voxgate with an
 * access token it minted itself: `stt.transcribe`, the manual-finalize WebSocket (Node: header auth),
 * and the browser's query-parameter handshake.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { createSpeechService, type SpeechService } from '../../src/tts/index.ts'
import { bytesOf, concatPcm, FLITE_VOICES, openStt, sendAudio, silence, speak, wav, wer } from './helpers.ts'

const require = createRequire(import.meta.url)
const { Cartesia, toFile } = require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js')

const TEXT = 'The weather today is sunny with a light breeze from the west.'
let t: TestServer
let speech: SpeechService
let client: InstanceType<typeof Cartesia>
let token: string
let pcm: Int16Array

before(async () => {
  t = await startTestServer()
  // Flite only, which speaks each sentence in a fresh instance: warming the engines (seconds of CPU) changes no byte.
  speech = await createSpeechService({ workers: 1, warm: false })
  pcm = concatPcm([silence(0.5), await speak(speech, FLITE_VOICES.get('awb')!, TEXT), silence(0.5)])
  const admin = new Cartesia({ apiKey: t.apiKey, baseURL: t.url })
  token = (await admin.accessToken.create({ grants: { tts: true, stt: true }, expires_in: 600 })).token
  client = new Cartesia({ token, baseURL: t.url })
})
after(async () => {
  await speech.close()
  await t.close()
})

test('stt.transcribe: a WAV file with word timestamps', async () => {
  const res = await client.stt.transcribe({
    file: await toFile(wav(pcm), 'speech.wav'),
    model: 'ink-whisper',
    language: 'en',
    timestamp_granularities: ['word'],
  })
  assert.equal(res.type, 'transcript')
  assert.ok(wer(TEXT, res.text).errors <= 3, res.text)
  // Seconds to the millisecond, as every duration the API reports.
  assert.equal(res.duration, Math.round(pcm.length / 16) / 1000)
  assert.ok(Array.isArray(res.words) && res.words.length > 0)
})

test('stt.transcribe: headerless PCM with encoding and sample_rate', async () => {
  const res = await client.stt.transcribe({
    file: await toFile(bytesOf(pcm), 'speech.raw'),
    model: 'ink-whisper',
    encoding: 'pcm_s16le',
    sample_rate: 16000,
  } as never)
  assert.ok(wer(TEXT, res.text).errors <= 3, res.text)
})

test('stt.manualFinalize.websocket (Node, Authorization header): transcripts, flush_done, done', async () => {
  const ws = client.stt.manualFinalize.websocket({
    model: 'ink-2',
    encoding: 'pcm_s16le',
    sample_rate: 16000,
    language: 'en',
  })
  const finals: string[] = []
  let flushed = false
  ws.on('transcript', (e: { is_final?: boolean; text?: string }) => e.is_final && finals.push(e.text ?? ''))
  ws.on('flush_done', () => (flushed = true))
  const done = new Promise<void>((resolve, reject) => {
    ws.on('done', () => resolve())
    ws.on('error', (e: unknown) => reject(new Error(JSON.stringify(e))))
  })
  const bytes = bytesOf(pcm)
  for (let at = 0; at < bytes.length; at += 3200) ws.sendRaw(new Uint8Array(bytes.subarray(at, at + 3200)))
  ws.send('finalize')
  ws.send('close')
  await done
  assert.ok(flushed)
  assert.ok(wer(TEXT, finals.join('')).errors <= 3, finals.join(''))
})

test('the browser handshake: ?access_token=, cartesia_version and cartesia_client in the query', async () => {
  const q = `model=ink-2&encoding=pcm_s16le&sample_rate=16000&cartesia_version=2026-08-14&access_token=${token}&cartesia_client=cartesia-js%2F4.2.0`
  const s = openStt(t.url, '/stt/websocket', q)
  await s.opened
  sendAudio(s.ws, bytesOf(pcm), 3200)
  s.ws.send('close')
  assert.equal((await s.closed).code, 1000)
  const text = s.events
    .filter((e) => e.is_final)
    .map((e) => e.text)
    .join('')
  assert.ok(wer(TEXT, text).errors <= 3, text)
})
