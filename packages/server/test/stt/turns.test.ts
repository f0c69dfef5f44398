/**
 * `/stt/turns/websocket`: turns cut by the recogniser's voice-activity detection, with the events
 * Cartesia's auto-finalize socket sends. Turn ends are measured on the audio, so audio sent faster
 * than real time gives the same events.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { createSpeechService, type SpeechService } from '../../src/tts/index.ts'
import { bytesOf, concatPcm, FLITE_VOICES, openStt, sendAudio, silence, speak, wer } from './helpers.ts'

let t: TestServer
let speech: SpeechService
before(async () => {
  t = await startTestServer()
  // Flite only, which speaks each sentence in a fresh instance: warming the engines (seconds of CPU) changes no byte.
  speech = await createSpeechService({ workers: 1, warm: false })
})
after(async () => {
  await speech.close()
  await t.close()
})

test('two sentences with a pause: connected, then per turn start → cumulative updates → eager_end → end; close ends the socket', async () => {
  const first = 'The quick brown fox jumps over the lazy dog.'
  const second = 'Please call me back when you get home tonight.'
  const voice = FLITE_VOICES.get('slt')!
  const pcm = concatPcm([
    silence(0.5),
    await speak(speech, voice, first),
    silence(2),
    await speak(speech, voice, second),
    silence(2),
  ])
  const token = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 60 })
  const s = openStt(t.url, '/stt/turns/websocket', 'model=ink-2&sample_rate=16000&encoding=pcm_s16le', {
    'x-api-key': token,
  })
  await s.opened
  sendAudio(s.ws, bytesOf(pcm), 3200)
  s.ws.send(JSON.stringify({ type: 'close' }))
  assert.equal((await s.closed).code, 1000)

  const requestId = s.events[0].request_id
  for (const e of s.events) assert.equal(e.request_id, requestId)
  // Collapse runs of updates (and any resume inside a turn) to read the turn structure.
  const shape = s.events
    .map((e) => e.type)
    .filter((type, i, all) => !(type === 'turn.update' && all[i - 1] === 'turn.update'))
  assert.deepEqual(shape, [
    'connected',
    'turn.start',
    'turn.update',
    'turn.eager_end',
    'turn.end',
    'turn.start',
    'turn.update',
    'turn.eager_end',
    'turn.end',
  ])
  const ends = s.events.filter((e) => e.type === 'turn.end')
  assert.ok(wer(first, ends[0].transcript).errors <= 2, ends[0].transcript)
  assert.ok(wer(second, ends[1].transcript).errors <= 3, ends[1].transcript)
  // Updates are cumulative within a turn: each extends or revises the running transcript, and the last one leads to the end.
  const eager = s.events.filter((e) => e.type === 'turn.eager_end')
  assert.deepEqual(
    eager.map((e) => e.transcript),
    ends.map((e) => e.transcript),
  )
  for (const e of s.events.filter((e) => e.type === 'turn.update'))
    assert.deepEqual(Object.keys(e).sort(), ['request_id', 'transcript', 'type'])
})

test('speech right after an eager end resumes the same turn', async () => {
  const voice = FLITE_VOICES.get('rms')!
  // 0.6 s between the sentences: long enough for the detector to end the utterance (0.5 s), too short to end the turn.
  const pcm = concatPcm([
    silence(0.5),
    await speak(speech, voice, 'Please call me back.'),
    silence(0.6),
    await speak(speech, voice, 'When you get home tonight.'),
    silence(2),
  ])
  const s = openStt(t.url, '/stt/turns/websocket', 'model=ink-2&sample_rate=16000&encoding=pcm_s16le', bearer(t.apiKey))
  await s.opened
  sendAudio(s.ws, bytesOf(pcm), 3200)
  s.ws.send(JSON.stringify({ type: 'close' }))
  await s.closed
  const types = s.events.map((e) => e.type)
  assert.equal(types.filter((x) => x === 'turn.start').length, 1, types.join(' '))
  assert.equal(types.filter((x) => x === 'turn.end').length, 1, types.join(' '))
  assert.ok(types.includes('turn.resume'), types.join(' '))
  assert.ok(types.indexOf('turn.eager_end') < types.indexOf('turn.resume'))
  const end = s.events.find((e) => e.type === 'turn.end')
  assert.ok(wer('Please call me back when you get home tonight', end.transcript).errors <= 3, end.transcript)
})
