/**
 * Health and a graceful drain, as load balancers expect: /healthz while the process answers, /readyz
 * while it should get traffic; on shutdown it reports not ready at once, refuses new streams with
 * 503, lets open streams finish for up to drainMs, then ends the rest with their terminal events.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer } from '../helpers/server.ts'
import { eventually } from '../helpers/controlled-speech.ts'

describe('health and readiness', () => {
  test('/healthz and /readyz answer without a credential, and say what is checked', async () => {
    const t = await startTestServer()
    try {
      const health = await call(t.url, '/healthz')
      assert.equal(health.status, 200)
      assert.deepEqual(health.json, { ok: true })
      const ready = await call(t.url, '/readyz')
      assert.equal(ready.status, 200)
      assert.deepEqual(ready.json, {
        ready: true,
        checks: { store: 'ok', redis: 'not_configured', speech: 'ok', draining: false },
      })
    } finally {
      await t.close()
    }
  })
})

describe('graceful drain', () => {
  test('not ready and no new streams at once; an open stream finishes by itself; then the server closes', async () => {
    const t = await startTestServer({ drainMs: 60_000 })
    const [voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
    const token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
    const inbox = await openInbox(t.url, { query: `?access_token=${token}` })
    try {
      inbox.send({ ...ttsBody(voice, 'Started before the drain,'), context_id: 'open', continue: true })
      await eventually(() => t.server.ctx.streams.size >= 2, 'the context holds a stream')
      let closed = false
      const closing = t.close().then(() => {
        closed = true
      })
      await eventually(() => t.server.ctx.streams.draining, 'draining')

      const ready = await call(t.url, '/readyz')
      assert.equal(ready.status, 503)
      assert.equal(ready.json.checks.draining, true)
      const refused = await call(t.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Too late.') })
      assert.equal(refused.status, 503)
      assert.equal(refused.json.error_code, 'connection_closing')
      assert.equal(refused.headers.get('retry-after'), '1')
      assert.equal(closed, false, 'the server waits for the open stream')

      // The open context still gets its text and ends normally.
      inbox.send({ ...ttsBody(voice, ' and finished during it.'), context_id: 'open' })
      const end = await inbox.terminal('open')
      assert.equal(end.type, 'done')
      await closing
    } finally {
      closeQuietly(inbox.ws)
    }
  })

  test('a stream still open when the drain time is up ends with its terminal event', async () => {
    const t = await startTestServer({ drainMs: 300 })
    const [voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
    const inbox = await openInbox(t.url, { headers: { 'x-api-key': t.apiKey } })
    try {
      inbox.send({ ...ttsBody(voice, 'Never finished'), context_id: 'stuck', continue: true })
      await eventually(() => t.server.ctx.streams.size >= 2, 'the context holds a stream')
      await t.close()
      const end = await inbox.terminal('stuck')
      assert.equal(end.type, 'error')
      assert.equal(end.error_code, 'connection_closing')
      assert.equal((await inbox.closed(3000)).code, 1001)
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})
