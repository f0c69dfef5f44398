/**
 * The compressed upload formats, from real files made once by ffmpeg (fixtures/README.md): Ogg Opus,
 * WebM Opus, MP3 and FLAC of one Flite sentence, each transcribed by POST /stt with real PocketSphinx.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { bearer, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { FIXTURE_SENTENCE } from './fixtures/sentence.ts'
import { wer } from './helpers.ts'

const FIXTURES = path.join(import.meta.dirname, 'fixtures')
let t: TestServer
let token: string

before(async () => {
  t = await startTestServer({ sttMaxStreams: 2 })
  token = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 600 })
})
after(() => t.close())

for (const [file, type] of [
  ['speech.ogg', 'audio/ogg'],
  ['speech.webm', 'audio/webm'],
  ['speech.mp3', 'audio/mpeg'],
  ['speech.flac', 'audio/flac'],
] as const) {
  test(`POST /stt transcribes ${file} (WER ≤ 0.15 of the spoken sentence)`, async () => {
    const bytes = readFileSync(path.join(FIXTURES, file))
    assert.ok(bytes.length < 100_000, `${file} stays small`)
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(bytes)], { type }), file)
    form.append('model', 'ink-whisper')
    form.append('timestamp_granularities[]', 'word')
    const res = await fetch(`${t.url}/stt`, { method: 'POST', headers: bearer(token), body: form })
    const body = (await res.json()) as { text: string; duration: number; words: { word: string }[] }
    assert.equal(res.status, 200, JSON.stringify(body))
    const w = wer(FIXTURE_SENTENCE, body.text)
    assert.ok(w.errors / w.words <= 0.15, `${file}: "${body.text}" (${w.errors}/${w.words} errors)`)
    // The sentence with its padding lasts about three seconds whatever the codec's own padding.
    assert.ok(body.duration > 2 && body.duration < 5, `duration ${body.duration}`)
    assert.equal(body.words.map((x) => x.word).join(' '), body.text)
  })
}
