/**
 * Scopes on API keys (issue 22 item 1): the route table (app/route-table.ts, issue 21 item 3) gives
 * every registered route exactly one doc and so one access decision, in local and in gateway mode
 * (whose features register the same routes), each scope meets each route as its decision says,
 * tokens never reach the key-only routes, a `mint` key revokes only its own tokens, and a key's
 * policy bounds what it mints.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createKey } from '../../src/keys/create-key.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { routeAccess } from '../../src/http/scopes.ts'
import { routeKey } from '../../src/http/route-doc.ts'
import { routeKeyOf, routeTableOf, type RouteTable } from '../helpers/route-table.ts'
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

/** Each registered route has exactly one doc, each doc is a registered route, and no doc repeats. */
function assertOneDocPerRoute(table: RouteTable): void {
  const registered = table.routes.map(routeKeyOf).sort()
  const documented = table.docs.map(routeKey).sort()
  assert.deepEqual(documented, registered)
  assert.equal(new Set(registered).size, registered.length, 'no route is registered twice')
  for (const { method, url } of table.routes) assert.doesNotThrow(() => routeAccess(table.access, method, url))
}

describe('the route table', () => {
  let local: RouteTable
  before(async () => {
    local = await routeTableOf(t)
  })

  test('gives every registered route one doc and one access decision, and documents nothing it does not serve', () => {
    assert.ok(local.routes.length >= 20)
    assertOneDocPerRoute(local)
  })

  test('in gateway mode too: every relayed route has one doc, and the relayed features serve the local routes', async () => {
    // A gateway in front of a fake upstream (it answers the start check); no request reaches it here.
    const fake = await FakeHttpUpstream.start()
    const gw = await startTestServer({
      upstreamUrl: fake.url,
      upstreamApiKey: 'sk_car_upstream-0123456789abcdef',
      console: true,
    })
    try {
      const relayed = await routeTableOf(gw)
      assertOneDocPerRoute(relayed)
      // The same methods and paths, and the same decisions, either way: only what answers them changes.
      assert.deepEqual(relayed.routes.map(routeKeyOf).sort(), local.routes.map(routeKeyOf).sort())
      assert.deepEqual(new Map([...relayed.access].sort()), new Map([...local.access].sort()))
      // Each feature's WebSocket path, local or relayed, is a GET route of its own with a decision.
      for (const table of [local, relayed]) {
        const paths = table.features.flatMap((f) => [...(f.sockets?.keys() ?? [])])
        assert.deepEqual(paths.sort(), ['/stt/turns/websocket', '/stt/websocket', '/tts/websocket'])
        for (const path of paths) assert.notEqual(routeAccess(table.access, 'GET', path), 'public', path)
      }
    } finally {
      await gw.close()
      await fake.close()
    }
  })

  test('each scope against each route: 403 insufficient_scope naming the scope exactly when the key lacks it', async () => {
    for (const { method, url } of local.routes) {
      const access = routeAccess(local.access, method, url)
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
    for (const { method, url } of local.routes) {
      if (!['mint', 'read', 'admin'].includes(routeAccess(local.access, method, url))) continue
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
