/**
 * Scopes on API keys (issue 22 item 1): the route table covers every registered route, in local and
 * in gateway mode (whose features register the same routes, issue 21 item 3), each scope
 * meets each route as the table says, tokens never reach the key-only routes, a `mint` key revokes
 * only its own tokens, and a key's policy bounds what it mints.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { RouteOptions } from 'fastify'
import { createKey } from '../../src/keys/create-key.ts'
import { buildApp } from '../../src/app/app.ts'
import { speechFeatures } from '../../src/app/speech-features.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { ROUTE_ACCESS, routeAccess } from '../../src/http/scopes.ts'
import { SCOPES, type KeyPolicy, type Scope } from '../../src/scopes.ts'
import { openStore } from '../../src/store/open.ts'
import { bearer, call, mint, type ApiResponse } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

let t: TestServer
/** One key per scope, by scope. */
const keys = {} as Record<Scope, string>
before(async () => {
  // With the console, so its routes are in the table test too.
  t = await startTestServer({ console: true })
  for (const scope of SCOPES)
    keys[scope] = (await createKey(t.server.ctx.store, scope, Date.now(), { scopes: [scope] })).key
})
after(() => t.close())

/** Every route Fastify registers for a server (HEAD routes stand with their GET); this file's by default. */
async function registeredRoutes(server: TestServer = t): Promise<{ method: string; url: string }[]> {
  const routes: { method: string; url: string }[] = []
  const onRoute = (r: RouteOptions) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url })
  }
  const app = buildApp(server.server.ctx, undefined, { onRoute })
  await app.ready()
  await app.close()
  return routes
}

/**
 * One request (with the console's Origin); a live event stream (the console's) is read up to its status and headers only, since
 * it never ends by itself.
 */
async function callOnce(path: string, init: { method: string; headers: Record<string, string>; body?: unknown }) {
  // From the server's own origin, as the console's page sends it (the console's writes need it; keys ignore it).
  if (path !== '/console/api/events') return call(t.url, path, { ...init, headers: { ...init.headers, origin: t.url } })
  const res = await fetch(t.url + path, { headers: init.headers })
  if (!res.ok) {
    const text = await res.text()
    return { status: res.status, headers: res.headers, text, json: JSON.parse(text) } as ApiResponse
  }
  await res.body?.cancel()
  return { status: res.status, headers: res.headers, text: '', json: undefined } as ApiResponse
}

const withParams = (url: string) => url.replace(/:[A-Za-z_]+/g, 'x')

/** Cartesia's error shape everywhere but under `/v1/`, where OpenAI's `{error: {code, message}}` is. */
function assertError(res: ApiResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, res.text)
  const body = res.json.error_code === undefined && res.json.error ? res.json.error : res.json
  assert.equal(body.error_code ?? body.code, code, res.text)
  if (message) assert.match(body.message, message)
}

describe('the route access table', () => {
  test('has a decision for every registered route, and none for a route that is not served', async () => {
    const routes = await registeredRoutes()
    assert.ok(routes.length >= 20)
    for (const { method, url } of routes) assert.doesNotThrow(() => routeAccess(method, url), `${method} ${url}`)
    const served = new Set(routes.map((r) => `${r.method} ${r.url}`))
    for (const entry of Object.keys(ROUTE_ACCESS)) assert.ok(served.has(entry), `${entry} is in the table, not served`)
  })

  test('in gateway mode too: every relayed route has a decision, and the relayed features serve the local routes', async () => {
    // A gateway in front of a fake upstream (it answers the start check); no request reaches it here.
    const fake = await FakeHttpUpstream.start()
    const gw = await startTestServer({
      upstreamUrl: fake.url,
      upstreamApiKey: 'sk_car_upstream-0123456789abcdef',
      console: true,
    })
    try {
      const relayed = await registeredRoutes(gw)
      for (const { method, url } of relayed) assert.doesNotThrow(() => routeAccess(method, url), `${method} ${url}`)
      // The same methods and paths either way: only what answers them changes.
      const key = (r: { method: string; url: string }) => `${r.method} ${r.url}`
      assert.deepEqual(relayed.map(key).sort(), (await registeredRoutes()).map(key).sort())
      // Each feature's WebSocket path, local or relayed, is a GET route of its own with a decision.
      for (const server of [t, gw]) {
        const paths = speechFeatures(server.server.ctx).flatMap((f) => [...(f.sockets?.keys() ?? [])])
        assert.deepEqual(paths.sort(), ['/stt/turns/websocket', '/stt/websocket', '/tts/websocket'])
        for (const path of paths) assert.notEqual(routeAccess('GET', path), 'public', path)
      }
    } finally {
      await gw.close()
      await fake.close()
    }
  })

  test('each scope against each route: 403 insufficient_scope naming the scope exactly when the key lacks it', async () => {
    for (const { method, url } of await registeredRoutes()) {
      const access = routeAccess(method, url)
      for (const scope of SCOPES) {
        const body = method === 'POST' || method === 'PUT' ? {} : undefined
        const res = await callOnce(withParams(url), { method, headers: bearer(keys[scope]), body })
        const refused = access !== 'public' && access !== 'any' && scope !== 'admin' && scope !== access
        if (refused) assertError(res, 403, 'insufficient_scope', new RegExp(`"${access}" scope`))
        else assert.ok(res.status !== 403 && res.status !== 401, `${scope} key on ${method} ${url}: ${res.text}`)
      }
    }
  })

  test('tokens on every mint, read and admin route: 403 api_key_required', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true, stt: true, voices: true }, expires_in: 60 })
    for (const { method, url } of await registeredRoutes()) {
      if (!['mint', 'read', 'admin'].includes(routeAccess(method, url))) continue
      const body = method === 'POST' || method === 'PUT' ? {} : undefined
      const res = await call(t.url, withParams(url), { method, headers: bearer(token), body })
      assertError(res, 403, 'api_key_required')
    }
  })
})

describe('default scopes', () => {
  test('the first key of a fresh store is admin; later keys are mint and speech', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-scopes-'))
    const store = await openStore({ dataDir })
    try {
      assert.deepEqual((await createKey(store, 'first', 1)).scopes, ['admin'])
      assert.deepEqual((await createKey(store, 'second', 2)).scopes, ['mint', 'speech'])
      assert.deepEqual(
        (await store.listApiKeys()).map((k) => k.scopes),
        [['admin'], ['mint', 'speech']],
      )
    } finally {
      await store.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('POST /access-token/revoke with a mint key', () => {
  const revoke = (key: string, body: unknown) => call(t.url, '/access-token/revoke', { headers: bearer(key), body })

  test('revokes a token it minted', async () => {
    const own = await mint(t.url, keys.mint)
    assert.equal((await revoke(keys.mint, { token: own })).status, 200)
    assertError(await call(t.url, '/access-token/self', { headers: bearer(own) }), 401, 'token_revoked')
  })

  test("another key's token, a jti or a sub need admin", async () => {
    const others = await mint(t.url, t.apiKey)
    assertError(await revoke(keys.mint, { token: others }), 403, 'insufficient_scope', /"admin" scope/)
    assertError(await revoke(keys.mint, { jti: 'tok_x' }), 403, 'insufficient_scope', /"admin" scope/)
    assertError(await revoke(keys.mint, { sub: 'u1', issued_before: 1 }), 403, 'insufficient_scope', /"admin" scope/)
    assert.equal((await call(t.url, '/access-token/self', { headers: bearer(others) })).status, 200, 'still valid')
    assert.equal((await revoke(keys.admin, { token: others })).status, 200)
  })
})

describe("a key's policy bounds what it mints", () => {
  const policy: KeyPolicy = {
    allowed_grants: ['tts'],
    max_expires_in: 600,
    max_limits: { characters: 1000 },
  }
  let key: string
  before(async () => {
    key = (await createKey(t.server.ctx.store, 'bounded', Date.now(), { scopes: ['mint'], policy })).key
  })
  const mintWith = (body: unknown) => call(t.url, '/access-token', { headers: bearer(key), body })
  const within = { grants: { tts: true }, expires_in: 600, limits: { characters: 1000 } }

  test('a mint at every edge is granted', async () => {
    assert.equal((await mintWith(within)).status, 200)
  })

  test('one past each edge is 403 key_policy_exceeded naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...within, grants: { tts: true, stt: true } }, /allowed_grants/],
      [{ ...within, expires_in: 601 }, /max_expires_in/],
      [{ ...within, limits: { characters: 1001 } }, /max_limits\.characters/],
      [{ grants: { tts: true }, expires_in: 60 }, /max_limits\.characters/],
    ]
    for (const [body, field] of cases) assertError(await mintWith(body), 403, 'key_policy_exceeded', field)
  })
})
