/**
 * The example app's backend over real HTTPS, without a browser: accounts, sessions, CSRF guards,
 * the token route in cookie mode, and voxgate refusing the app's cookie from a foreign origin.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { handshake, wsUrl } from '../../../packages/server/test/helpers/ws.ts'
import { assertCookieLifetime } from '../../../packages/app-kit/test/helpers/fake-voice-api.ts'
import { SIGN_UP_ANSWER } from '../src/routes/sign-up.ts'
import { countingHasher } from './helpers/counting-hasher.ts'
import { startStack, TOKEN_COOKIE, type Stack } from './helpers/stack.ts'

let s: Stack
const hashing = countingHasher()
before(async () => {
  s = await startStack('cookie', 60, { passwordHasher: hashing.hasher })
})
after(() => s.close())

interface Answer {
  status: number
  headers: Headers
  json: any
  cookies: Map<string, { value: string; attrs: string[] }>
}

async function post(
  route: string,
  body: unknown,
  init: { origin?: string; cookie?: string; contentType?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${s.app.url}${route}`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      origin: init.origin ?? s.app.url,
      'content-type': init.contentType ?? 'application/json',
      ...(init.cookie && { cookie: init.cookie }),
    },
    body: JSON.stringify(body),
  })
  const cookies = new Map<string, { value: string; attrs: string[] }>()
  for (const line of res.headers.getSetCookie()) {
    const [pair = '', ...attrs] = line.split(';').map((p) => p.trim())
    const eq = pair.indexOf('=')
    cookies.set(pair.slice(0, eq), { value: pair.slice(eq + 1), attrs })
  }
  return { status: res.status, headers: res.headers, json: await res.json().catch(() => undefined), cookies }
}

const session = (a: Answer): string => {
  const c = a.cookies.get('__Host-session')
  assert.ok(c?.value, 'no session cookie')
  return `__Host-session=${c.value}`
}
const password = 'a long enough password'

/** Every header of an answer but `date`, which only says when it was sent. */
const headersOf = (a: Answer): [string, string][] => [...a.headers].filter(([name]) => name !== 'date')

/** The hasher calls `act` made. */
async function hashesDuring<T>(act: () => Promise<T>): Promise<{ result: T; hash: number; verify: number }> {
  const before = { ...hashing.calls }
  const result = await act()
  return { result, hash: hashing.calls.hash - before.hash, verify: hashing.calls.verify - before.verify }
}

describe('accounts and sessions', () => {
  test('sign-up answers 202 without a cookie and stores an argon2id hash, never the password; sign-in starts a session in a Secure HttpOnly cookie', async () => {
    const up = await post('/api/sign-up', { email: 'Grace@Example.test', password })
    assert.equal(up.status, 202)
    assert.deepEqual(up.json, SIGN_UP_ANSWER)
    assert.equal(up.cookies.size, 0)
    const a = await post('/api/sign-in', { email: 'grace@example.test', password })
    assert.equal(a.status, 200)
    const c = a.cookies.get('__Host-session')!
    assert.match(c.value, /^[A-Za-z0-9_-]{43}$/)
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/'])
      assert.ok(c.attrs.includes(attr), `missing ${attr}`)
    assert.ok(!c.attrs.some((x) => x.startsWith('Domain')))
    const db = new Database(s.app.config.databaseFile, { readonly: true })
    const row = db.prepare('SELECT email, password_hash FROM users').get() as { email: string; password_hash: string }
    const sessions = db.prepare('SELECT key FROM sessions').all() as { key: string }[]
    db.close()
    assert.equal(row.email, 'grace@example.test')
    assert.match(row.password_hash, /^\$argon2id\$/)
    assert.ok(!row.password_hash.includes(password))
    assert.ok(sessions.length > 0 && sessions.every((x) => x.key !== c.value), 'session ids are stored hashed')
  })

  test('a taken email and a new one: the same status, headers and body, no cookie, and exactly one hash each', async () => {
    const other = 'another fine password'
    const taken = await hashesDuring(() => post('/api/sign-up', { email: 'GRACE@example.test', password: other }))
    const fresh = await hashesDuring(() => post('/api/sign-up', { email: 'hedy@example.test', password: other }))
    for (const { result, hash, verify } of [taken, fresh]) {
      assert.equal(result.status, 202)
      assert.deepEqual(result.json, SIGN_UP_ANSWER)
      assert.equal(result.cookies.size, 0)
      assert.deepEqual([hash, verify], [1, 0], 'one password hash, nothing else, for either')
    }
    assert.deepEqual(headersOf(taken.result), headersOf(fresh.result))
    // The taken account keeps its own password; the new one has the password just given.
    assert.equal((await post('/api/sign-in', { email: 'grace@example.test', password: other })).status, 401)
    assert.equal((await post('/api/sign-in', { email: 'grace@example.test', password })).status, 200)
    assert.equal((await post('/api/sign-in', { email: 'hedy@example.test', password: other })).status, 200)
  })

  test('a wrong password is 401 without a session, like an unknown email, after one verification each', async () => {
    const wrong = await hashesDuring(() =>
      post('/api/sign-in', { email: 'grace@example.test', password: 'wrong password!' }),
    )
    assert.equal(wrong.result.status, 401)
    assert.equal(wrong.result.cookies.size, 0)
    const unknown = await hashesDuring(() => post('/api/sign-in', { email: 'nobody@example.test', password }))
    assert.equal(unknown.result.status, 401)
    assert.deepEqual(unknown.result.json, wrong.result.json, 'unknown email and wrong password look the same')
    assert.deepEqual([wrong.hash, wrong.verify, unknown.hash, unknown.verify], [0, 1, 0, 1])
  })

  test('short passwords and bad emails are 400', async () => {
    assert.equal((await post('/api/sign-up', { email: 'x@example.test', password: 'short' })).status, 400)
    assert.equal((await post('/api/sign-up', { email: 'not-an-email', password })).status, 400)
  })

  test('8 spaces, `password`, `Passw0rd!Passw0rd!` and other guessable passwords are 400 weak_password, no hash, no account', async () => {
    const weak: [string, string][] = [
      ['        ', 'blank'],
      ['password', 'common'],
      ['Password1!', 'common'],
      ['Passw0rd!Passw0rd!', 'common'],
      ['12345678', 'sequence'],
      ['abababab', 'repetitive'],
      ['weak.user2024', 'personal'],
    ]
    for (const [pw, reason] of weak) {
      const { result: a, hash } = await hashesDuring(() =>
        post('/api/sign-up', { email: 'weak.user@example.test', password: pw }),
      )
      assert.equal(hash, 0, 'refused before the hash')
      assert.equal(a.status, 400, JSON.stringify(pw))
      assert.equal(a.json.error_code, 'weak_password')
      assert.equal(a.json.reason, reason)
      assert.equal(a.cookies.size, 0)
    }
    assert.equal((await post('/api/sign-in', { email: 'weak.user@example.test', password: 'password' })).status, 401)
  })

  test('sign-in from a foreign origin is 403 and from a form is 415 (CSRF)', async () => {
    assert.equal(
      (await post('/api/sign-in', { email: 'grace@example.test', password }, { origin: 'https://evil.example.test' }))
        .status,
      403,
    )
    assert.equal(
      (
        await post(
          '/api/sign-in',
          { email: 'grace@example.test', password },
          { contentType: 'application/x-www-form-urlencoded' },
        )
      ).status,
      415,
    )
  })

  test('/speak needs a session; the pages carry a strict CSP', async () => {
    const res = await fetch(`${s.app.url}/speak`, { redirect: 'manual' })
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/sign-in')
    const csp = (await fetch(`${s.app.url}/sign-in`)).headers.get('content-security-policy') ?? ''
    assert.match(csp, /script-src 'self'/)
    assert.ok(csp.includes(s.voicePublicUrl), 'the voice API is an allowed connect-src')
  })
})

describe('voice tokens through the app', () => {
  test('signed out: the token route is 401 signed_out', async () => {
    const a = await post('/api/voice-token', {})
    assert.equal(a.status, 401)
    assert.equal(a.json.error_code, 'signed_out')
  })

  test('signed in: a cookie for voxgate, which refuses it in a WebSocket handshake from a foreign Origin', async () => {
    const cookie = session(await post('/api/sign-in', { email: 'grace@example.test', password }))
    const before = Date.now()
    const a = await post('/api/voice-token', {}, { cookie })
    const after = Date.now()
    assert.equal(a.status, 200)
    assert.equal(a.json.token, undefined)
    const token = a.cookies.get(TOKEN_COOKIE)
    assert.ok(token?.value)
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/'])
      assert.ok(token.attrs.includes(attr), `missing ${attr}`)
    // 60, or less by each second that ticked over during the mint (it was 59 under load).
    const maxAge = token.attrs.find((x) => x.startsWith('Max-Age='))?.slice('Max-Age='.length)
    assertCookieLifetime(maxAge, { exp: a.json.expires_at, lifetime: 60, before, after })
    const foreign = await handshake(wsUrl(s.voice.url), {
      origin: 'https://evil.example.test',
      cookie: `${TOKEN_COOKIE}=${token.value}`,
    })
    assert.equal(foreign.status, 403)
    assert.equal(JSON.parse(foreign.body).error_code, 'origin_not_allowed')
    const own = await handshake(wsUrl(s.voice.url), { origin: s.app.url, cookie: `${TOKEN_COOKIE}=${token.value}` })
    assert.equal(own.status, 101)
    own.ws?.close()
  })

  test('sign-out ends the session and clears both cookies; the old session id is dead', async () => {
    const cookie = session(await post('/api/sign-in', { email: 'grace@example.test', password }))
    const out = await post('/api/sign-out', {}, { cookie })
    assert.equal(out.status, 200)
    assert.ok(out.cookies.get(TOKEN_COOKIE)?.attrs.includes('Max-Age=0'))
    assert.ok(out.cookies.get('__Host-session')?.attrs.includes('Max-Age=0'))
    const me = await fetch(`${s.app.url}/api/me`, { headers: { cookie } })
    assert.equal(me.status, 401)
    assert.equal((await post('/api/voice-token', {}, { cookie })).status, 401)
  })

  test('the logs of both servers hold no password and no API key', () => {
    const logs = `${s.voice.logs.text()}\n${s.appLogs.join('\n')}`
    assert.ok(!logs.includes(password))
    assert.ok(!logs.includes(s.voice.apiKey))
    assert.match(logs, /signed in/)
  })
})
