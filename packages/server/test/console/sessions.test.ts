/**
 * The operator console over HTTP (issue 23 items 1 and 2): its files and their headers, sign-in by
 * one-time code and by key, the session cookie on the console's routes only, the Origin rule for
 * writes, read sessions, idle and absolute expiry on a controlled clock, sign-out on every instance,
 * and the sign-in throttle one past its edge.
 */
import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createKey } from '../../src/keys/create-key.ts'
import { CONSOLE_CSP } from '../../src/console/assets.ts'
import {
  CONSOLE_LINK_TTL_MS,
  CONSOLE_SESSION_IDLE_MS,
  CONSOLE_SESSION_MAX_MS,
  ConsoleSessions,
} from '../../src/auth/console-sessions.ts'
import { CONSOLE_SIGN_IN_PER_MINUTE } from '../../src/auth/console-sessions.ts'
import { bearer, call, type ApiResponse } from '../helpers/http.ts'
import { ManualClock } from '../helpers/clock.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let clock: ManualClock
let t: TestServer
let origin: string

// A server per test: sign-ins are throttled per address on the real clock, and every test signs in.
beforeEach(async () => {
  clock = new ManualClock(Date.now())
  t = await startTestServer({ console: true }, { clock })
  origin = t.url
})
afterEach(() => t.close())

function assertError(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, res.text)
  assert.equal(res.json.error_code, code, res.text)
}

/** Signs in as the browser would (from the console's origin); returns the response and the cookie. */
async function signIn(body: unknown, url = t.url): Promise<{ res: ApiResponse; cookie: string | undefined }> {
  const res = await call(url, '/console/api/login', { body, headers: { origin: url } })
  const setCookie = res.headers.get('set-cookie') ?? ''
  const cookie = /^(__Host-voxgate-console=[^;]+);/.exec(setCookie)?.[1]
  return { res, cookie }
}

async function linkSession(): Promise<string> {
  const code = await ConsoleSessions.createLoginCode(t.server.ctx.store, clock.now())
  const { res, cookie } = await signIn({ code })
  assert.equal(res.status, 200, res.text)
  return cookie!
}

describe('console files', () => {
  test('the page and its hashed assets, with the security and caching headers', async () => {
    const page = await call(t.url, '/console/')
    assert.equal(page.status, 200)
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(page.headers.get('content-security-policy'), CONSOLE_CSP)
    assert.match(CONSOLE_CSP, /^default-src 'self'; .*frame-ancestors 'none'$/)
    assert.doesNotMatch(CONSOLE_CSP, /unsafe|https?:|\*/)
    assert.equal(page.headers.get('x-frame-options'), 'DENY')
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer')
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(page.headers.get('cache-control'), 'no-cache')
    // No inline script: every script is a file of this origin.
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/)
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.text)?.[1]
    assert.ok(script, page.text)
    const asset = await call(t.url, script)
    assert.equal(asset.status, 200)
    assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8')
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable')
    assert.equal(asset.headers.get('content-security-policy'), CONSOLE_CSP)
  })

  test('a page path is the page; a missing asset is 404; /console redirects', async () => {
    const keys = await call(t.url, '/console/keys')
    assert.equal(keys.status, 200)
    assert.equal(keys.text, (await call(t.url, '/console/')).text)
    assertError(await call(t.url, '/console/assets/nope-123.js'), 404, 'not_found')
    const bare = await fetch(`${t.url}/console`, { redirect: 'manual' })
    assert.equal(bare.status, 308)
    assert.equal(bare.headers.get('location'), '/console/')
  })

  test('without --console there is no console at all', async () => {
    const plain = await startTestServer()
    try {
      assertError(await call(plain.url, '/console/'), 404, 'not_found')
      assertError(
        await call(plain.url, '/console/api/login', { body: {}, headers: { origin: plain.url } }),
        404,
        'not_found',
      )
    } finally {
      await plain.close()
    }
  })
})

describe('console sign-in', () => {
  test('a one-time code signs in as admin once; the cookie is __Host-, HttpOnly, Secure, SameSite=Strict, 8 h', async () => {
    const code = await ConsoleSessions.createLoginCode(t.server.ctx.store, clock.now())
    const first = await signIn({ code })
    assert.equal(first.res.status, 200, first.res.text)
    assert.deepEqual(first.res.json, { scope: 'admin', key_id: null })
    assert.match(
      first.res.headers.get('set-cookie') ?? '',
      /^__Host-voxgate-console=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; Secure; HttpOnly; SameSite=Strict$/,
    )
    const session = await call(t.url, '/console/api/session', { headers: { cookie: first.cookie! } })
    assert.equal(session.status, 200, session.text)
    assert.equal(session.json.scope, 'admin')
    assertError((await signIn({ code })).res, 401, 'invalid_credentials')
  })

  test('a code is valid 5 minutes: one millisecond short works, at 5 minutes it does not', async () => {
    const early = await ConsoleSessions.createLoginCode(t.server.ctx.store, clock.now())
    const late = await ConsoleSessions.createLoginCode(t.server.ctx.store, clock.now())
    clock.advance(CONSOLE_LINK_TTL_MS - 1)
    assert.equal((await signIn({ code: early })).res.status, 200)
    clock.advance(1)
    assertError((await signIn({ code: late })).res, 401, 'invalid_credentials')
  })

  test('an admin or read key signs in; a mint key is 403 insufficient_scope; a token 403 api_key_required', async () => {
    const read = await createKey(t.server.ctx.store, 'reader', clock.now(), { scopes: ['read'] })
    const mintOnly = await createKey(t.server.ctx.store, 'app', clock.now(), { scopes: ['mint', 'speech'] })
    const asAdmin = await signIn({ key: t.apiKey })
    assert.deepEqual(asAdmin.res.json, { scope: 'admin', key_id: t.apiKeyId })
    const asRead = await signIn({ key: read.key })
    assert.deepEqual(asRead.res.json, { scope: 'read', key_id: read.id })
    const refused = await signIn({ key: mintOnly.key })
    assertError(refused.res, 403, 'insufficient_scope')
    assert.equal(refused.cookie, undefined)
    const token = (await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: { expires_in: 60 } })).json
      .token
    assertError((await signIn({ key: token })).res, 403, 'api_key_required')
    assertError((await signIn({ key: 'sk_vx_nonsense' })).res, 401, 'invalid_credentials')
  })

  test('a sign-in from another origin, or with no Origin, is refused', async () => {
    const code = await ConsoleSessions.createLoginCode(t.server.ctx.store, clock.now())
    assertError(
      await call(t.url, '/console/api/login', { body: { code }, headers: { origin: 'https://evil.example' } }),
      403,
      'origin_not_allowed',
    )
    assertError(await call(t.url, '/console/api/login', { body: { code } }), 403, 'origin_not_allowed')
    // The code was not spent by the refused attempts.
    assert.equal((await signIn({ code })).res.status, 200)
  })
})

describe('the session cookie', () => {
  test("is accepted on the console's routes only", async () => {
    const cookie = await linkSession()
    for (const path of ['/api-keys', '/usage', '/quotas', '/console/api/session'])
      assert.equal((await call(t.url, path, { headers: { cookie } })).status, 200, path)
    assertError(await call(t.url, '/voices', { headers: { cookie } }), 401, 'missing_credentials')
    assertError(await call(t.url, '/access-token/self', { headers: { cookie } }), 401, 'missing_credentials')
    assertError(
      await call(t.url, '/tts/bytes', { headers: { cookie, origin }, body: { transcript: 'x' } }),
      401,
      'missing_credentials',
    )
  })

  test('a write needs the console origin: missing or foreign Origin is 403 origin_not_allowed', async () => {
    const cookie = await linkSession()
    const body = { name: 'from-console', scopes: ['mint'] }
    assertError(await call(t.url, '/api-keys', { headers: { cookie }, body }), 403, 'origin_not_allowed')
    assertError(
      await call(t.url, '/api-keys', { headers: { cookie, origin: 'https://evil.example' }, body }),
      403,
      'origin_not_allowed',
    )
    assertError(
      await call(t.url, '/api-keys', { headers: { cookie, origin: 'null' }, body }),
      403,
      'origin_not_allowed',
    )
    const made = await call(t.url, '/api-keys', { headers: { cookie, origin }, body })
    assert.equal(made.status, 201, made.text)
    const minted = await call(t.url, '/access-token', { headers: { cookie, origin }, body: { expires_in: 60 } })
    assert.equal(minted.status, 200, minted.text)
  })

  test('--public-url sets the console origin', async () => {
    const other = await startTestServer({ console: true, publicUrl: 'https://voice.example.com' }, { clock })
    try {
      const code = await ConsoleSessions.createLoginCode(other.server.ctx.store, clock.now())
      assertError(
        await call(other.url, '/console/api/login', { body: { code }, headers: { origin: other.url } }),
        403,
        'origin_not_allowed',
      )
      const ok = await call(other.url, '/console/api/login', {
        body: { code },
        headers: { origin: 'https://voice.example.com' },
      })
      assert.equal(ok.status, 200, ok.text)
    } finally {
      await other.close()
    }
  })

  test('a read session reads everything and changes nothing (403 insufficient_scope)', async () => {
    const read = await createKey(t.server.ctx.store, 'reader2', clock.now(), { scopes: ['read'] })
    const { cookie } = await signIn({ key: read.key })
    for (const path of ['/api-keys', '/usage', '/quotas'])
      assert.equal((await call(t.url, path, { headers: { cookie: cookie! } })).status, 200, path)
    const headers = { cookie: cookie!, origin }
    assertError(await call(t.url, '/api-keys', { headers, body: { name: 'x' } }), 403, 'insufficient_scope')
    assertError(
      await call(t.url, '/quotas', { method: 'PUT', headers, body: { period: 'day', characters: 1 } }),
      403,
      'insufficient_scope',
    )
    assertError(await call(t.url, '/access-token', { headers, body: {} }), 403, 'insufficient_scope')
    assertError(await call(t.url, '/access-token/revoke', { headers, body: { jti: 'x' } }), 403, 'insufficient_scope')
  })

  test('a key session ends when its key is revoked or down-scoped below read', async () => {
    const key = await createKey(t.server.ctx.store, 'temp-admin', clock.now(), { scopes: ['admin'] })
    const { cookie } = await signIn({ key: key.key })
    assert.equal((await call(t.url, '/api-keys', { headers: { cookie: cookie! } })).status, 200)
    await t.server.ctx.store.updateApiKey(key.id, { scopes: ['mint'] })
    assertError(await call(t.url, '/api-keys', { headers: { cookie: cookie! } }), 401, 'invalid_credentials')
  })

  test('idle 30 minutes ends it; use keeps it alive up to 8 hours, then it ends', async () => {
    const idle = await linkSession()
    const busy = await linkSession()
    clock.advance(CONSOLE_SESSION_IDLE_MS - 1)
    assert.equal((await call(t.url, '/usage', { headers: { cookie: idle } })).status, 200)
    clock.advance(CONSOLE_SESSION_IDLE_MS)
    assertError(await call(t.url, '/usage', { headers: { cookie: idle } }), 401, 'invalid_credentials')
    // `busy` was last used at sign-in, one idle period ago: it has ended too. A fresh one, used every 20 minutes:
    assertError(await call(t.url, '/usage', { headers: { cookie: busy } }), 401, 'invalid_credentials')
    const kept = await linkSession()
    const start = clock.now()
    while (clock.now() + 20 * 60_000 < start + CONSOLE_SESSION_MAX_MS) {
      clock.advance(20 * 60_000)
      assert.equal((await call(t.url, '/usage', { headers: { cookie: kept } })).status, 200)
    }
    clock.set(start + CONSOLE_SESSION_MAX_MS - 1)
    assert.equal((await call(t.url, '/usage', { headers: { cookie: kept } })).status, 200)
    clock.set(start + CONSOLE_SESSION_MAX_MS)
    assertError(await call(t.url, '/usage', { headers: { cookie: kept } }), 401, 'invalid_credentials')
  })

  test('sign-out ends the session on every instance sharing the store', async () => {
    const second = await startTestServer({ console: true, dataDir: t.dataDir }, { clock })
    try {
      const cookie = await linkSession()
      assert.equal((await call(second.url, '/usage', { headers: { cookie } })).status, 200)
      const out = await call(second.url, '/console/api/logout', { headers: { cookie, origin: second.url }, body: {} })
      assert.equal(out.status, 204, out.text)
      assert.match(out.headers.get('set-cookie') ?? '', /^__Host-voxgate-console=; Path=\/; Max-Age=0;/)
      assertError(await call(t.url, '/usage', { headers: { cookie } }), 401, 'invalid_credentials')
      assertError(await call(second.url, '/usage', { headers: { cookie } }), 401, 'invalid_credentials')
    } finally {
      await second.close({ keepData: true })
    }
  })
})

describe('the sign-in throttle', () => {
  test(`${CONSOLE_SIGN_IN_PER_MINUTE} attempts a minute per address; the next is 429 rate_limited`, async () => {
    const fresh = t
    {
      for (let i = 0; i < CONSOLE_SIGN_IN_PER_MINUTE; i++)
        assertError(
          await call(fresh.url, '/console/api/login', { body: { code: `wrong-${i}` }, headers: { origin: fresh.url } }),
          401,
          'invalid_credentials',
        )
      const code = await ConsoleSessions.createLoginCode(fresh.server.ctx.store, Date.now())
      const refused = await call(fresh.url, '/console/api/login', { body: { code }, headers: { origin: fresh.url } })
      assertError(refused, 429, 'rate_limited')
      assert.ok(Number(refused.headers.get('retry-after')) >= 1)
    }
  })
})
