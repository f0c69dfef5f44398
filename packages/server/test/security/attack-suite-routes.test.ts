/**
 * The attack suite, wide (STYLE.md habit 9): every guarded route of the route table
 * (app/route-table.ts), HTTP and WebSocket, local and relayed, meets the attacks that are refused
 * before the route's own code runs, each with its exact status and code. attack-suite.test.ts goes
 * deep (every attack, good credentials too) on a few routes; this file leaves no route out, because
 * it reads the same list the server registers: a new feature is attacked here the day it is added.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { routeKey, type RouteDoc } from '../../src/http/route-doc.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { signWith } from '../helpers/forge.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { routeTableOf, type RouteTable } from '../helpers/route-table.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { handshake } from '../helpers/ws.ts'

interface Outcome {
  status: number
  code: string | undefined
  wwwAuthenticate: string | undefined
  text: string
}

/** One request to a route as its doc describes it (`{id}` filled in), or its WebSocket handshake. */
async function send(server: TestServer, doc: RouteDoc, headers: Record<string, string>, query = '') {
  const path = doc.path.replace(/\{[A-Za-z_]+\}/g, 'x') + query
  if (doc.websocket) {
    const h = await handshake(`${server.url.replace(/^https/, 'wss')}${path}`, headers)
    h.ws?.close()
    const www = h.headers['www-authenticate']
    return outcome(h.status, h.body, Array.isArray(www) ? www.join(', ') : www)
  }
  const body = ['post', 'put', 'patch'].includes(doc.method) ? {} : undefined
  const res = await call(server.url, path, { method: doc.method.toUpperCase(), headers, body })
  return outcome(res.status, res.text, res.headers.get('www-authenticate') ?? undefined)
}

/** Cartesia's `error_code`, or under `/v1/` OpenAI's `{error: {code}}`. */
function outcome(status: number, text: string, wwwAuthenticate: string | undefined): Outcome {
  let code: string | undefined
  try {
    const body = JSON.parse(text)
    code = body.error_code ?? body.error?.code
  } catch {
    code = undefined
  }
  return { status, code, wwwAuthenticate, text }
}

const name = (doc: RouteDoc) => `${doc.method.toUpperCase()} ${doc.path}`

/** A credential attack: what is presented, and the refusal a route with this access decision gives. */
interface Attack {
  name: string
  headers(server: TestServer): Promise<Record<string, string>>
  query?: string
  /** undefined: the route lets this credential through (its own code decides). */
  expect(doc: RouteDoc): { status: number; code: string } | undefined
}

const nowS = () => Math.floor(Date.now() / 1000)
const refusedToken = (status: number, code: string) => () => ({ status, code })

const ATTACKS: Attack[] = [
  {
    name: 'no credential: 401 missing_credentials',
    headers: async () => ({}),
    expect: refusedToken(401, 'missing_credentials'),
  },
  {
    name: 'a garbage credential: 401 invalid_credentials',
    headers: async () => bearer('not-a-key-at-all-garbage'),
    expect: refusedToken(401, 'invalid_credentials'),
  },
  {
    name: 'a token of this server that expired: 401 token_expired',
    headers: async (server) => {
      const { kid, privateKey } = server.server.ctx.keyRing.signer()
      const claims = { iss: 'voxgate', aud: 'voxgate', iat: nowS() - 700, exp: nowS() - 100, jti: 'tok_expired_x' }
      return bearer(await signWith(privateKey, kid, { ...claims, key_id: server.apiKeyId, grants: { tts: true } }))
    },
    expect: refusedToken(401, 'token_expired'),
  },
  {
    name: 'a revoked token: 401 token_revoked',
    headers: async (server) => {
      const token = await mint(server.url, server.apiKey, { grants: { tts: true, stt: true }, expires_in: 600 })
      const res = await call(server.url, '/access-token/revoke', { headers: bearer(server.apiKey), body: { token } })
      assert.equal(res.status, 200, res.text)
      return bearer(token)
    },
    expect: refusedToken(401, 'token_revoked'),
  },
  {
    name: 'a token with no grant: 403 api_key_required on key routes, insufficient_scope on grant routes',
    headers: async (server) => bearer(await mint(server.url, server.apiKey, { grants: {}, expires_in: 600 })),
    expect: (doc) =>
      doc.access === 'any'
        ? undefined
        : { status: 403, code: doc.access === 'api_key' ? 'api_key_required' : 'insufficient_scope' },
  },
  {
    name: 'a credential in the URL of an HTTP route: 400 credential_in_query',
    headers: async () => ({}),
    query: '?api_key=not-a-key-at-all-garbage',
    expect: (doc) => (doc.websocket ? undefined : { status: 400, code: 'credential_in_query' }),
  },
]

function assertRefused(out: Outcome, want: { status: number; code: string }, route: string): void {
  assert.equal(out.status, want.status, `${route}: ${out.text.slice(0, 300)}`)
  assert.equal(out.code, want.code, `${route}: ${out.text.slice(0, 300)}`)
  if (want.status === 401) assert.equal(out.wwwAuthenticate, 'Bearer error="invalid_token"', route)
  if (want.status === 403) assert.equal(out.wwwAuthenticate, 'Bearer error="insufficient_scope"', route)
}

for (const mode of ['local', 'gateway'] as const) {
  describe(`every guarded route of the route table, ${mode} mode`, () => {
    let fake: FakeHttpUpstream | undefined
    let server: TestServer
    let table: RouteTable
    before(async () => {
      if (mode === 'gateway') fake = await FakeHttpUpstream.start()
      server = await startTestServer({
        console: true,
        ...(fake && { upstreamUrl: fake.url, upstreamApiKey: 'sk_car_attack_routes_upstream_0123456789' }),
      })
      table = await routeTableOf(server)
      fake?.reset()
    })
    after(async () => {
      await server.close()
      await fake?.close()
    })

    for (const attack of ATTACKS) {
      test(attack.name, async () => {
        const guarded = table.docs.filter((doc) => doc.access !== 'none')
        assert.ok(guarded.length >= 35, `${guarded.length} guarded routes`)
        const headers = await attack.headers(server)
        for (const doc of guarded) {
          // The doc's access decision is the one the guard checks: never public for a guarded route.
          assert.notEqual(table.access.get(routeKey(doc)), 'public', name(doc))
          const want = attack.expect(doc)
          if (want) assertRefused(await send(server, doc, headers, attack.query), want, name(doc))
        }
        // A refused request never reaches the upstream.
        assert.deepEqual(fake?.requests.length ?? 0, 0)
      })
    }
  })
}
