/**
 * A warm recogniser hears the same audio the same way every time: decoder state that each utterance
 * updates (the live cepstral mean normalisation) is put back to the model's start for every upload and
 * every socket, so what came before on that worker cannot change a transcript.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { bearer, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { createSpeechService, type SpeechService } from '../../src/tts/index.ts'
import { concatPcm, FLITE_VOICES, openStt, sendAudio, silence, speak, wav } from './helpers.ts'

let t: TestServer
let speech: SpeechService
let token: string

before(async () => {
  // One recogniser: every upload and socket below runs on the same warm decoder.
  t = await startTestServer({ sttMaxStreams: 1 })
  // Flite only, which speaks each sentence in a fresh instance: warming the engines (seconds of CPU) changes no byte.
  speech = await createSpeechService({ workers: 1, warm: false })
  token = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 600 })
})
after(async () => {
  await speech.close()
  await t.close()
})

async function transcribe(file: Uint8Array): Promise<string> {
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(file)]), 'speech.wav')
  form.append('model', 'ink-whisper')
  const res = await fetch(`${t.url}/stt`, { method: 'POST', headers: bearer(token), body: form })
  const body = (await res.json()) as { text: string }
  assert.equal(res.status, 200, JSON.stringify(body))
  return body.text
}

/** `pcm` louder or quieter (clipped): other audio that moves the cepstral means a long way. */
const scaled = (pcm: Int16Array, gain: number): Int16Array =>
  pcm.map((x) => Math.max(-32768, Math.min(32767, Math.round(x * gain))))

/** `pcm` with seeded white noise of `amplitude` added: the same bytes every time. */
function noisy(pcm: Int16Array, amplitude: number): Int16Array {
  let x = 7
  return pcm.map((v) =>
    Math.max(
      -32768,
      Math.min(32767, v + ((((x = (x * 1103515245 + 12345) & 0x7fffffff) % 2000) - 1000) * amplitude) / 1000),
    ),
  )
}

test('one file transcribed 5 times on one worker, interleaved with other audio, gives 5 identical transcripts', async () => {
  const voices = [...FLITE_VOICES.values()]
  // Speech in loud noise: recognised on a knife edge, so any carried-over state shows in the words.
  // One sentence: noise makes the decoder's search wide, so each second of this file costs several of
  // clean speech, and it is transcribed five times.
  const file = wav(
    noisy(
      concatPcm([
        silence(0.3),
        await speak(speech, voices[1]!, 'Please call me back when you get home tonight.'),
        silence(0.3),
      ]),
      4000,
    ),
  )
  const others: (() => Promise<unknown>)[] = [
    async () => transcribe(wav(scaled(await speak(speech, voices[2]!, 'He opened the window to let some air in.'), 6))),
    async () => transcribe(wav(noisy(silence(3), 12000))),
    async () => {
      // A socket between uploads: its utterances move the means too.
      const s = openStt(t.url, '/stt/websocket', 'model=ink-2&encoding=pcm_s16le&sample_rate=16000', bearer(token))
      await s.opened
      const quiet = scaled(await speak(speech, voices[0]!, 'My phone number is on the back of the card.'), 0.08)
      sendAudio(s.ws, new Uint8Array(quiet.buffer), 3200)
      s.ws.send('done')
      await s.closed
    },
    async () =>
      transcribe(wav(scaled(await speak(speech, voices[3]!, 'We need more time to finish the project.'), 0.1))),
  ]
  const transcripts: string[] = []
  for (let i = 0; i < 5; i++) {
    transcripts.push(await transcribe(file))
    if (i < others.length) await others[i]!()
  }
  assert.ok(transcripts[0]!.length > 0, 'the file is heard as words')
  assert.deepEqual(transcripts, Array(5).fill(transcripts[0]))
})
