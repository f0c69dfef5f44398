import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { routeTableOf } from '../helpers/route-table.ts'

let t: TestServer
before(async () => {
  t = await startTestServer()
})
after(() => t.close())

/** Each route with a request whose body is deliberately invalid: auth passes → 400, fails → 401/403. */
const ROUTES = [
  { name: 'POST /tts/bytes', method: 'POST', path: '/tts/bytes', grant: 'tts' },
  { name: 'POST /tts/sse', method: 'POST', path: '/tts/sse', grant: 'tts' },
  { name: 'GET /voices', method: 'GET', path: '/voices?limit=0', grant: 'voices' },
  { name: 'GET /voices/:id', method: 'GET', path: '/voices/no-such-voice', grant: 'voices' },
  { name: 'POST /access-token', method: 'POST', path: '/access-token', grant: 'api_key' },
  { name: 'POST /access-token/revoke', method: 'POST', path: '/access-token/revoke', grant: 'api_key' },
] as const

const GRANT_SETS = [
  {},
  { tts: true },
  { voices: true },
  { tts: true, voices: true },
  { tts: false, voices: false },
  // Cartesia's other two grants open no voxgate route yet (no STT routes, no agent runtime).
  { stt: true },
  { agent: true },
  { tts: true, stt: true },
  { stt: true, agent: true, voices: false },
] as const

/** With valid credentials every request above fails validation: that is how we see auth passed. */
const PASS_STATUS: Record<string, number> = { '/voices/no-such-voice': 404 }

describe('grants × routes', () => {
  for (const grants of GRANT_SETS) {
    for (const route of ROUTES) {
      test(`token ${JSON.stringify(grants)} on ${route.name}`, async () => {
        const token = await mint(t.url, t.apiKey, { grants })
        const res = await call(t.url, route.path, {
          method: route.method,
          headers: bearer(token),
          ...(route.method === 'POST' && { body: { bad: true } }),
        })
        const allowed = route.grant !== 'api_key' && (grants as Record<string, boolean>)[route.grant] === true
        if (allowed) {
          assert.equal(res.status, PASS_STATUS[route.path] ?? 400, res.text)
        } else {
          assert.equal(res.status, 403, res.text)
          assert.equal(res.json.error_code, route.grant === 'api_key' ? 'api_key_required' : 'insufficient_scope')
          assert.equal(res.headers.get('www-authenticate'), 'Bearer error="insufficient_scope"')
        }
      })
    }
  }

  for (const route of ROUTES) {
    test(`API key reaches ${route.name}`, async () => {
      const res = await call(t.url, route.path, {
        method: route.method,
        headers: bearer(t.apiKey),
        ...(route.method === 'POST' && { body: { bad: true } }),
      })
      assert.equal(res.status, PASS_STATUS[route.path] ?? 400, res.text)
    })
  }

  // Every route of the route table (app/route-table.ts), not only the six above: a token reaches a route
  // exactly when the route's doc names a grant it holds (or `any`), and never a route for keys.
  for (const grants of GRANT_SETS) {
    test(`token ${JSON.stringify(grants)} on every guarded route of the route table`, async () => {
      const token = await mint(t.url, t.apiKey, { grants })
      const docs = (await routeTableOf(t)).docs.filter((d) => d.access !== 'none')
      for (const doc of docs) {
        const method = doc.method.toUpperCase()
        const res = await call(t.url, doc.path.replace(/\{[A-Za-z_]+\}/g, 'x'), {
          method,
          headers: bearer(token),
          ...(method !== 'GET' && method !== 'DELETE' && { body: { bad: true } }),
        })
        const held = (grants as Record<string, boolean>)[typeof doc.access === 'object' ? doc.access.grant : '']
        const route = `${method} ${doc.path}: ${res.text.slice(0, 200)}`
        if (doc.access === 'any' || held === true) assert.ok(res.status !== 401 && res.status !== 403, route)
        else {
          assert.equal(res.status, 403, route)
          const body = res.json.error_code === undefined ? res.json.error : res.json
          assert.equal(
            body.error_code ?? body.code,
            doc.access === 'api_key' ? 'api_key_required' : 'insufficient_scope',
          )
        }
      }
    })
  }

  test('a plain GET of /tts/websocket with a tts token is a 400 asking for an upgrade', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true } })
    const res = await call(t.url, '/tts/websocket', { headers: bearer(token) })
    assert.equal(res.status, 400)
    assert.equal(res.json.error_code, 'invalid_request')
  })

  test("Cartesia's own example body {tts, stt} mints, and the token records both grants", async () => {
    const res = await call(t.url, '/access-token', {
      headers: bearer(t.apiKey),
      body: { grants: { tts: true, stt: true }, expires_in: 60 },
    })
    assert.equal(res.status, 200, res.text)
    const info = await call(t.url, '/access-token/self', { headers: bearer(res.json.token) })
    assert.deepEqual(info.json.grants, { tts: true, stt: true })
  })

  test('grants are booleans or null, and nothing else', async () => {
    for (const grants of [{ stt: 'yes' }, { agent: 1 }, { listen: true }]) {
      const res = await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: { grants } })
      assert.equal(res.status, 400, JSON.stringify(grants))
      assert.equal(res.json.error_code, 'invalid_request')
    }
    const res = await call(t.url, '/access-token', {
      headers: bearer(t.apiKey),
      body: { grants: { tts: true, stt: null, agent: null } },
    })
    assert.equal(res.status, 200, res.text)
  })

  test('an agent token finds no agent routes: /agents/* is a JSON 404', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { agent: true } })
    const res = await call(t.url, '/agents/calls', { headers: bearer(token) })
    assert.equal(res.status, 404)
    assert.equal(res.json.error_code, 'not_found')
  })

  test('an unknown route is a JSON 404', async () => {
    const res = await call(t.url, '/nope')
    assert.equal(res.status, 404)
    assert.equal(res.json.error_code, 'not_found')
  })
})
