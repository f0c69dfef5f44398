import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import {
  clientAddress,
  createAppKit,
  fastifyRoutes,
  toExpressHandler,
  toFastifyHandler,
  toNodeHandler,
  type AppKit,
  type ExpressLikeRequest,
} from '../src/index.ts'
import { API_KEY, VOICE_API, fakeJwt, fakeVoiceApi, jsonResponse, parseSetCookie } from './helpers/fake-voice-api.ts'
import { testTlsFiles } from './helpers/tls.ts'

const ORIGIN = 'https://localhost:3000'
const exp = Math.floor(Date.now() / 1000) + 60
const jwt = fakeJwt({ iat: exp - 60, exp })

function kitFor(mode: 'cookie' | 'memory'): AppKit {
  const api = fakeVoiceApi(() => jsonResponse(200, { token: jwt }))
  return createAppKit({
    voiceApiUrl: VOICE_API,
    apiKey: API_KEY,
    allowedOrigins: [ORIGIN],
    mode,
    expiresInSeconds: 60,
    authenticate: (request) => (request.headers.get('cookie')?.includes('sid=alice') ? { id: 'alice' } : null),
    signOut: () => ({ user: { id: 'alice' }, setCookies: ['sid=; Max-Age=0; Path=/'] }),
    fetch: api.fetch,
  })
}

/** Echoes the client address the adapter recorded for the request. */
const echoAddress = async (request: Request): Promise<Response> =>
  Response.json({ address: clientAddress(request) ?? null })

async function post(
  base: string,
  path: string,
  init: { body?: string; contentType?: string; method?: string; origin?: string } = {},
): Promise<Response> {
  const method = init.method ?? 'POST'
  return fetch(base + path, {
    method,
    headers: {
      origin: init.origin ?? ORIGIN,
      'content-type': init.contentType ?? 'application/json',
      cookie: 'sid=alice',
    },
    ...(method !== 'GET' && { body: init.body ?? '{}' }),
  })
}

async function listen(server: https.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `https://localhost:${(server.address() as AddressInfo).port}`
}

/** The contract every adapter must keep, run against each of them. */
function adapterSuite(
  name: string,
  base: () => string,
  paths: { memory: string; cookie: string; signOut: string },
): void {
  describe(`${name} adapter`, () => {
    test('memory mode: 200 with the token in JSON, no-store', async () => {
      const res = await post(base(), paths.memory)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.deepEqual(await res.json(), { token: jwt, expires_at: exp, issued_at: exp - 60 })
    })

    test('cookie mode: the Set-Cookie reaches the wire intact and the body has no token', async () => {
      const res = await post(base(), paths.cookie)
      assert.equal(res.status, 200)
      const text = await res.text()
      assert.ok(!text.includes(jwt))
      const c = parseSetCookie(res.headers.getSetCookie()[0] ?? '')
      assert.equal(c.value, jwt)
      assert.equal(c.attrs.get('httponly'), true)
      assert.equal(c.attrs.get('samesite'), 'Strict')
    })

    test('sign-out: two Set-Cookie headers stay two headers', async () => {
      const res = await post(base(), paths.signOut)
      assert.equal(res.status, 200)
      assert.deepEqual(
        res.headers
          .getSetCookie()
          .map((c) => parseSetCookie(c).name)
          .sort(),
        ['sid', 'voxgate_token'],
      )
    })

    test("the route sees the peer's address through clientAddress (never a header)", async () => {
      const path = paths.signOut.replace('sign-out', 'address')
      const res = await post(base(), path)
      const forged = await fetch(base() + path, {
        method: 'POST',
        headers: { 'x-forwarded-for': '203.0.113.9', 'content-type': 'application/json' },
        body: '{}',
      })
      assert.deepEqual(await res.json(), { address: '127.0.0.1' })
      assert.deepEqual(await forged.json(), { address: '127.0.0.1' })
    })

    test('foreign Origin 403, text/plain 415', async () => {
      assert.equal((await post(base(), paths.memory, { origin: 'https://evil.test' })).status, 403)
      const res = await post(base(), paths.memory, { contentType: 'text/plain' })
      assert.equal(res.status, 415)
      assert.equal((await res.json()).error_code, 'unsupported_media_type')
    })
  })
}

// node:https, the adapter used as is.
let nodeServer: https.Server
let nodeBase = ''
// A structural Express: node's req/res plus what express.json() leaves behind (`req.body`).
let expressServer: https.Server
let expressBase = ''
const expressErrors: unknown[] = []
// Real Fastify: the handler and the plugin.
let fastify: FastifyInstance
let fastifyBase = ''

before(async () => {
  const memory = kitFor('memory')
  const cookie = kitFor('cookie')
  const node = {
    '/memory': toNodeHandler(memory.tokenRoute),
    '/cookie': toNodeHandler(cookie.tokenRoute),
    '/sign-out': toNodeHandler(cookie.signOutRoute),
    '/address': toNodeHandler(echoAddress),
    '/small': toNodeHandler(memory.tokenRoute, { bodyLimitBytes: 16 }),
  }
  nodeServer = https.createServer(testTlsFiles(), (req, res) => {
    const h = node[(req.url ?? '') as keyof typeof node]
    if (h) void h(req, res)
    else res.writeHead(404).end()
  })
  nodeBase = await listen(nodeServer)

  const express = {
    '/memory': toExpressHandler(memory.tokenRoute),
    '/cookie': toExpressHandler(cookie.tokenRoute),
    '/sign-out': toExpressHandler(cookie.signOutRoute),
    '/address': toExpressHandler(echoAddress),
  }
  expressServer = https.createServer(testTlsFiles(), async (req: ExpressLikeRequest, res) => {
    const h = express[(req.url ?? '').replace(/^\/parsed/, '') as keyof typeof express]
    if (!h) return res.writeHead(404).end()
    if (req.url?.startsWith('/parsed')) {
      // What express.json() does: read the stream, parse, leave the result on req.body.
      let text = ''
      for await (const chunk of req) text += chunk
      req.body = req.headers['content-type']?.startsWith('application/json') ? JSON.parse(text) : text
    }
    h(req, res, (err) => {
      expressErrors.push(err)
      res.writeHead(500).end()
    })
  })
  expressBase = await listen(expressServer)

  fastify = Fastify({ https: testTlsFiles() }) as unknown as FastifyInstance
  fastify.post('/handler/memory', toFastifyHandler(memory.tokenRoute))
  await fastify.register(
    fastifyRoutes({
      '/memory': memory.tokenRoute,
      '/cookie': cookie.tokenRoute,
      '/sign-out': cookie.signOutRoute,
      '/address': echoAddress,
    }),
  )
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  fastifyBase = `https://localhost:${(fastify.server.address() as AddressInfo).port}`
})

after(async () => {
  nodeServer.close()
  expressServer.close()
  await fastify.close()
})

adapterSuite('node:https', () => nodeBase, { memory: '/memory', cookie: '/cookie', signOut: '/sign-out' })
adapterSuite('Express (stream unread)', () => expressBase, {
  memory: '/memory',
  cookie: '/cookie',
  signOut: '/sign-out',
})
adapterSuite('Express (after express.json())', () => expressBase, {
  memory: '/parsed/memory',
  cookie: '/parsed/cookie',
  signOut: '/parsed/sign-out',
})
adapterSuite('Fastify plugin', () => fastifyBase, { memory: '/memory', cookie: '/cookie', signOut: '/sign-out' })

describe('adapter details', () => {
  test('node: a body past the limit is a 413, not a mint', async () => {
    const res = await post(nodeBase, '/small', { body: JSON.stringify({ pad: 'x'.repeat(64) }) })
    assert.equal(res.status, 413)
    assert.equal((await res.json()).error_code, 'payload_too_large')
  })

  test('node: the scheme is https on a TLS socket (the Request URL the route sees)', async () => {
    let seen = ''
    const server = https.createServer(
      testTlsFiles(),
      (req, res) =>
        void toNodeHandler(async (r) => {
          seen = r.url
          return new Response('')
        })(req, res),
    )
    const base = await listen(server)
    await fetch(`${base}/x?y=1`)
    server.close()
    assert.equal(seen, `${base}/x?y=1`)
  })

  test("Fastify plugin: GET is our 405 with Allow, not Fastify's 404", async () => {
    const res = await post(fastifyBase, '/memory', { method: 'GET' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'POST')
    assert.equal((await res.json()).error_code, 'method_not_allowed')
  })

  test('Fastify plugin: a form body is our 415 (its parsers are replaced inside the plugin)', async () => {
    const res = await post(fastifyBase, '/memory', { contentType: 'application/x-www-form-urlencoded', body: 'a=b' })
    assert.equal(res.status, 415)
    assert.equal((await res.json()).error_code, 'unsupported_media_type')
  })

  test('Fastify handler: JSON parsed by Fastify still reaches the route', async () => {
    const res = await post(fastifyBase, '/handler/memory', { body: '{"a":1}' })
    assert.equal(res.status, 200)
    assert.equal((await res.json()).token, jwt)
  })

  test('Express: nothing went to next(err)', () => {
    assert.deepEqual(expressErrors, [])
  })
})
