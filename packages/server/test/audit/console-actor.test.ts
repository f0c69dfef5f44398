/**
 * The console in the audit log (issue 22 item 3, issue 23 item 2): a sign-in writes
 * `console.signed_in` (a refused one writes nothing), and a change made through a console session is
 * recorded with actor `{type: "console", key_id}` (the key that signed in; none for a one-time link),
 * in the store, in `GET /audit` and in `voxgate audit`. A revocation's `reason` lands in its row.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createKey } from '../../src/keys/create-key.ts'
import { ConsoleSessions } from '../../src/auth/console-sessions.ts'
import { REVOKE_REASON_MAX_CHARS } from '../../src/audit/reason.ts'
import { BIN } from '../helpers/cli.ts'
import { bearer, call, type ApiResponse } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let t: TestServer
before(async () => {
  t = await startTestServer({ console: true })
})
after(() => t.close())

/** Signs in as the console page does; returns the answer and the session cookie. */
async function signIn(body: unknown): Promise<{ res: ApiResponse; cookie: string }> {
  const res = await call(t.url, '/console/api/login', { body, headers: { origin: t.url } })
  return { res, cookie: /^(__Host-voxgate-console=[^;]+);/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '' }
}

/** A console write: the session cookie and the console's own Origin. */
const asConsole = (cookie: string) => ({ cookie, origin: t.url })

async function audit(query: string): Promise<any[]> {
  const res = await call(t.url, `/audit?${query}`, { headers: bearer(t.apiKey) })
  assert.equal(res.status, 200, res.text)
  return res.json.data
}

describe('console actions in the audit log', () => {
  test('a link sign-in writes console.signed_in with actor console and no key; the session id is nowhere in it', async () => {
    const code = await ConsoleSessions.createLoginCode(t.server.ctx.store, Date.now())
    const { res, cookie } = await signIn({ code })
    assert.equal(res.status, 200, res.text)
    const [row] = await audit('action=console.signed_in&limit=1')
    assert.deepEqual(
      { ...row, id: undefined, at: undefined, target: { ...row.target, id: undefined } },
      {
        id: undefined,
        at: undefined,
        action: 'console.signed_in',
        actor: { type: 'console' },
        target: { type: 'console_session', id: undefined },
        request_id: res.headers.get('x-request-id'),
        ip: '127.0.0.1',
        details: { scope: 'admin', method: 'link' },
      },
    )
    assert.match(row.target.id, /^cs_[0-9a-f]{16}$/)
    const sessionId = cookie.split('=')[1]!
    assert.equal(sessionId.length, 43)
    assert.equal(JSON.stringify(row).includes(sessionId), false, 'the session id is not in the row')
    assert.equal(JSON.stringify(row).includes(code), false, 'the code is not in the row')
  })

  test('a key sign-in writes console.signed_in with the key; refused sign-ins write nothing', async () => {
    const reader = await createKey(t.server.ctx.store, 'auditor', Date.now(), { scopes: ['read'] })
    const minter = await createKey(t.server.ctx.store, 'app', Date.now(), { scopes: ['mint'] })
    const before = (await audit('action=console.signed_in')).length
    const refused = await signIn({ key: minter.key })
    assert.deepEqual([refused.res.status, refused.res.json.error_code], [403, 'insufficient_scope'])
    const stale = await signIn({ code: 'not-a-code' })
    assert.deepEqual([stale.res.status, stale.res.json.error_code], [401, 'invalid_credentials'])
    assert.equal((await audit('action=console.signed_in')).length, before)

    const { res } = await signIn({ key: reader.key })
    assert.equal(res.status, 200, res.text)
    const rows = await audit(`action=console.signed_in&key_id=${reader.id}`)
    assert.equal(rows.length, 1)
    assert.deepEqual(rows[0].actor, { type: 'console', key_id: reader.id })
    assert.deepEqual(rows[0].details, { scope: 'read', method: 'key' })
    assert.equal(JSON.stringify(rows[0]).includes(reader.key), false)
  })

  test("a change through a key's console session has actor console with that key; through a link's, no key", async () => {
    const ops = await createKey(t.server.ctx.store, 'ops', Date.now(), { scopes: ['admin'] })
    const withKey = (await signIn({ key: ops.key })).cookie
    const quota = await call(t.url, '/quotas', {
      method: 'PUT',
      headers: asConsole(withKey),
      body: { sub: 'dana', period: 'day', characters: 100 },
    })
    assert.equal(quota.status, 201, quota.text)
    const [set] = await audit(`action=quota.set&key_id=${ops.id}`)
    assert.deepEqual(set.actor, { type: 'console', key_id: ops.id })
    assert.equal(set.request_id, quota.headers.get('x-request-id'))

    const code = await ConsoleSessions.createLoginCode(t.server.ctx.store, Date.now())
    const viaLink = (await signIn({ code })).cookie
    const revoked = await call(t.url, '/access-token/revoke', {
      headers: asConsole(viaLink),
      body: { sub: 'dana', issued_before: 1_700_000_000, reason: '  support ticket 42  ' },
    })
    assert.equal(revoked.status, 200, revoked.text)
    const [row] = await audit('action=subject.revoked&target_id=dana')
    assert.deepEqual(row.actor, { type: 'console' })
    assert.deepEqual(row.details, { issued_before: 1_700_000_000, reason: 'support ticket 42' })

    // The same key with itself: actor api_key, as before.
    const own = await call(t.url, '/access-token/revoke', { headers: bearer(ops.key), body: { jti: 'jti-ops-1' } })
    assert.equal(own.status, 200, own.text)
    const [token] = await audit('action=token.revoked&target_id=jti-ops-1')
    assert.deepEqual([token.actor, token.details], [{ type: 'api_key', key_id: ops.id }, {}])
    // The key_id filter finds what the key did with itself and through the console.
    const byOps = (await audit(`key_id=${ops.id}`)).map((r) => `${r.actor.type} ${r.action}`)
    assert.deepEqual(byOps, ['api_key token.revoked', 'console quota.set', 'console console.signed_in'])

    const cli = spawnSync(process.execPath, [BIN, 'audit', '--data', t.dataDir, '--action', 'quota.set'], {
      encoding: 'utf8',
    })
    assert.equal(cli.status, 0, cli.stderr)
    assert.match(cli.stdout, new RegExp(`  quota\\.set  by console:${ops.id}  on quota:`))
    const links = spawnSync(process.execPath, [BIN, 'audit', '--data', t.dataDir, '--action', 'subject.revoked'], {
      encoding: 'utf8',
    })
    assert.match(links.stdout, / {2}subject\.revoked {2}by console {2}on subject:dana {2}/)
  })

  test(`a reason is 1 to ${REVOKE_REASON_MAX_CHARS} characters: one more, or blank, is 400`, async () => {
    for (const reason of ['x'.repeat(REVOKE_REASON_MAX_CHARS + 1), '   ']) {
      const res = await call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body: { jti: 'j', reason } })
      assert.deepEqual([res.status, res.json.error_code], [400, 'invalid_request'], res.text)
    }
    const longest = 'y'.repeat(REVOKE_REASON_MAX_CHARS)
    const ok = await call(t.url, '/access-token/revoke', {
      headers: bearer(t.apiKey),
      body: { jti: 'j-long', reason: longest },
    })
    assert.equal(ok.status, 200, ok.text)
    const [row] = await audit('action=token.revoked&target_id=j-long')
    assert.deepEqual(row.details, { reason: longest })
  })
})
