/**
 * Sessions as a real product keeps them: "sign out everywhere" ends every session of the account and
 * revokes every voice token it was given; expired sessions are refused and deleted, on read and by a
 * timer. The app's clock is the real one plus an offset a test can move.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { handshake, wsUrl } from '../../../packages/server/test/helpers/ws.ts'
import { testTls } from '../../../packages/server/test/helpers/server.ts'
import { startWebApp } from '../src/app.ts'
import { AppDb } from '../src/db.ts'
import { freePort, startStack, TOKEN_COOKIE, type Stack } from './helpers/stack.ts'

const LIFETIME_S = 3600
let offsetMs = 0
let s: Stack
before(async () => {
  s = await startStack('cookie', 60, { now: () => Date.now() + offsetMs, sessionLifetimeSeconds: LIFETIME_S })
})
after(() => s.close())

const PASSWORD = 'seven lanterns by the river'

async function post(base: string, route: string, body: unknown, cookie?: string) {
  const res = await fetch(`${base}${route}`, {
    method: 'POST',
    headers: { origin: base, 'content-type': 'application/json', ...(cookie && { cookie }) },
    body: JSON.stringify(body),
  })
  const cookies = new Map(res.headers.getSetCookie().map((c) => [c.split('=')[0]!, c]))
  const session = cookies.get('__Host-session')?.split(';')[0]
  const token = cookies.get(TOKEN_COOKIE)?.split(';')[0]?.split('=')[1]
  return { status: res.status, json: await res.json(), cookies, session, token }
}
/** Signs up (202, no session) and then in: the session cookie. */
async function newAccount(base: string, email: string): Promise<string> {
  assert.equal((await post(base, '/api/sign-up', { email, password: PASSWORD })).status, 202)
  const signedIn = await post(base, '/api/sign-in', { email, password: PASSWORD })
  assert.ok(signedIn.session, 'signing in starts a session')
  return signedIn.session
}
const me = async (cookie: string): Promise<number> =>
  (await fetch(`${s.app.url}/api/me`, { headers: { cookie } })).status
function sessionRows(file: string, email?: string): number {
  const db = new Database(file, { readonly: true })
  try {
    const sql = `SELECT COUNT(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id${email ? ' WHERE u.email = ?' : ''}`
    return (db.prepare(sql).get(...(email ? [email] : [])) as { n: number }).n
  } finally {
    db.close()
  }
}

describe('sign out everywhere', () => {
  test("ends every session of the account (not others'), revokes its voice tokens, and a new sign-in gets a working token", async () => {
    const a = await newAccount(s.app.url, 'hal@example.test')
    const b = (await post(s.app.url, '/api/sign-in', { email: 'hal@example.test', password: PASSWORD })).session!
    const c = (await post(s.app.url, '/api/sign-in', { email: 'hal@example.test', password: PASSWORD })).session!
    const other = await newAccount(s.app.url, 'ida@example.test')
    const token = (await post(s.app.url, '/api/voice-token', {}, b)).token!
    const opened = await handshake(wsUrl(s.voice.url), { origin: s.app.url, cookie: `${TOKEN_COOKIE}=${token}` })
    assert.equal(opened.status, 101)
    opened.ws?.close()

    const out = await post(s.app.url, '/api/sign-out-everywhere', {}, a)
    assert.equal(out.status, 200)
    assert.deepEqual(out.json, { signed_out: true })
    assert.match(out.cookies.get('__Host-session') ?? '', /Max-Age=0/)
    assert.match(out.cookies.get(TOKEN_COOKIE) ?? '', /Max-Age=0/)
    assert.deepEqual(await Promise.all([a, b, c].map(me)), [401, 401, 401])
    assert.equal(await me(other), 200)
    assert.equal(sessionRows(s.app.config.databaseFile, 'hal@example.test'), 0)

    const refused = await handshake(wsUrl(s.voice.url), { origin: s.app.url, cookie: `${TOKEN_COOKIE}=${token}` })
    assert.equal(refused.status, 401, 'the token another session held is revoked on voxgate')

    const again = (await post(s.app.url, '/api/sign-in', { email: 'hal@example.test', password: PASSWORD })).session!
    const fresh = await post(s.app.url, '/api/voice-token', {}, again)
    assert.equal(fresh.status, 200)
    const works = await handshake(wsUrl(s.voice.url), { origin: s.app.url, cookie: `${TOKEN_COOKIE}=${fresh.token}` })
    assert.equal(works.status, 101, 'a token minted after the revocation is not born revoked')
    works.ws?.close()
  })

  test('signed out already: 200, and nothing else happens', async () => {
    const res = await post(s.app.url, '/api/sign-out-everywhere', {})
    assert.equal(res.status, 200)
  })

  test('a foreign Origin is 403 and ends nothing (CSRF)', async () => {
    const cookie = (await post(s.app.url, '/api/sign-in', { email: 'ida@example.test', password: PASSWORD })).session!
    const res = await fetch(`${s.app.url}/api/sign-out-everywhere`, {
      method: 'POST',
      headers: { origin: 'https://evil.example.test', 'content-type': 'application/json', cookie },
      body: '{}',
    })
    assert.equal(res.status, 403)
    assert.equal(await me(cookie), 200)
  })
})

describe('expired sessions', () => {
  test('an expired session is refused and its row deleted when it is read', async () => {
    const cookie = await newAccount(s.app.url, 'jo@example.test')
    assert.equal(sessionRows(s.app.config.databaseFile, 'jo@example.test'), 1)
    offsetMs += LIFETIME_S * 1000
    assert.equal(await me(cookie), 401)
    assert.equal((await post(s.app.url, '/api/voice-token', {}, cookie)).status, 401)
    assert.equal(sessionRows(s.app.config.databaseFile, 'jo@example.test'), 0)
  })

  test('purgeExpiredSessions deletes exactly the expired ones', () => {
    let now = 1_767_225_600_000
    const db = new AppDb(':memory:', () => now)
    const user = db.createUser('kit@example.test', 'hash')!
    db.createSession(user.id, 10)
    const live = db.createSession(user.id, 100)
    now += 10_000
    assert.equal(db.purgeExpiredSessions(), 1)
    assert.equal(db.sessionUser(live)?.id, user.id)
    now += 90_000
    assert.equal(db.purgeExpiredSessions(), 1)
    db.close()
  })

  // The timeout only turns a missing timer into a failure instead of a hang; a working one takes ~10 ms.
  test('the purge timer deletes expired sessions nobody reads again', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-web-app-purge-'))
    const tls = testTls()
    let shiftMs = 0
    const port = await freePort()
    const app = await startWebApp({
      port,
      tls: { cert: readFileSync(tls.tlsCertFile), key: readFileSync(tls.tlsKeyFile) },
      voiceApiUrl: s.voice.url,
      voicePublicUrl: s.voicePublicUrl,
      apiKey: s.voice.apiKey,
      databaseFile: path.join(dir, 'app.sqlite'),
      sessionLifetimeSeconds: 60,
      sessionPurgeIntervalMs: 10,
      now: () => Date.now() + shiftMs,
      log: () => undefined,
    })
    try {
      await newAccount(app.url, 'lu@example.test')
      assert.equal(sessionRows(app.config.databaseFile), 1)
      shiftMs = 60_000
      // Nothing reads the session again; only the timer can delete it. Wait for it, however long it takes.
      while (sessionRows(app.config.databaseFile) > 0) await new Promise((resolve) => setTimeout(resolve, 10))
    } finally {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
