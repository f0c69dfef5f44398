/**
 * A machine without PocketSphinx's model (or library): the server still starts and speaks, and every
 * STT route answers 503 `stt_unavailable` naming the one install command. (The folder is pointed at
 * an empty one with `sttModelDir`, so this runs on a machine that has the Debian packages.)
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { bearer, call, mint } from '../helpers/http.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const emptyModelDir = mkdtempSync(path.join(tmpdir(), 'voxgate-no-model-'))
let t: TestServer
before(async () => {
  t = await startTestServer({ sttModelDir: emptyModelDir })
})
after(async () => {
  await t.close()
  rmSync(emptyModelDir, { recursive: true, force: true })
})

const INSTALL = 'apt-get install -y libpocketsphinx3 pocketsphinx-en-us'

test('the STT routes answer 503 stt_unavailable with the install command; speech still works', async () => {
  const token = await mint(t.url, t.apiKey, { grants: { tts: true, stt: true }, expires_in: 600 })
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(3200)]), 'audio.raw')
  form.append('model', 'ink-whisper')
  for (const route of [
    '/stt?encoding=pcm_s16le&sample_rate=16000',
    '/audio/transcriptions?encoding=pcm_s16le&sample_rate=16000',
  ]) {
    const res = await fetch(`${t.url}${route}`, { method: 'POST', headers: bearer(token), body: form })
    const body = (await res.json()) as { error_code: string; message: string }
    assert.equal(res.status, 503, route)
    assert.equal(body.error_code, 'stt_unavailable')
    assert.ok(body.message.includes(INSTALL), body.message)
  }
  const socket = await handshake(
    wsUrl(t.url).replace('/tts/websocket', '/stt/websocket?model=ink-2&encoding=pcm_s16le&sample_rate=16000'),
    bearer(token),
  )
  assert.equal(socket.status, 503)
  assert.equal(JSON.parse(socket.body).error_code, 'stt_unavailable')
  const [voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
  assert.equal(
    (await call(t.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Still speaking.') })).status,
    200,
  )
})
