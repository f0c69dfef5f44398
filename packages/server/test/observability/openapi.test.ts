import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compileErrors, validate } from '@readme/openapi-parser'
import { ERROR_CATALOGUE } from '@voxgate/protocol'
import { AccessTokenRequest, TtsBytesRequest, WsGenerationRequest } from '@voxgate/protocol/schemas'
import { call } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { requestSchema } from '../../src/openapi/json-schema.ts'
import { routeAccess } from '../../src/http/scopes.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { routeTableOf, type RouteTable } from '../helpers/route-table.ts'

let t: TestServer
let doc: any

before(async () => {
  t = await startTestServer({ allowedOrigins: ['https://app.example.com'], tokenCookieName: 'vg_token' })
  const res = await call(t.url, '/openapi.json')
  assert.equal(res.status, 200)
  doc = res.json
})
after(() => t.close())

/** Every route Fastify registers for a server from its route table (app/route-table.ts). */
async function registeredRoutes(server: TestServer = t): Promise<{ method: string; url: string }[]> {
  return (await routeTableOf(server)).routes
}

const openApiPath = (fastifyUrl: string) => fastifyUrl.replace(/:([A-Za-z_]+)/g, '{$1}')

describe('GET /openapi.json', () => {
  test('is a valid OpenAPI 3.1 document, served without a credential', async () => {
    assert.equal(doc.openapi, '3.1.0')
    const result = await validate(structuredClone(doc))
    assert.ok(result.valid, result.valid ? '' : compileErrors(result))
  })

  test('documents every route Fastify registered, and nothing else', async () => {
    const routes = await registeredRoutes()
    assert.ok(routes.length >= 15)
    for (const { method, url } of routes) {
      assert.ok(doc.paths[openApiPath(url)]?.[method.toLowerCase()], `${method} ${url} is missing from the document`)
    }
    const registered = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`))
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const method of Object.keys(ops))
        assert.ok(registered.has(`${method} ${path}`), `${method} ${path} is documented but not served`)
    }
  })

  test('with --console, the console routes are documented too, exactly those served, and the document is valid', async () => {
    const withConsole = await startTestServer({ console: true })
    try {
      const consoleDoc = (await call(withConsole.url, '/openapi.json')).json
      const result = await validate(structuredClone(consoleDoc))
      assert.ok(result.valid, result.valid ? '' : compileErrors(result))
      const routes = await registeredRoutes(withConsole)
      for (const { method, url } of routes)
        assert.ok(consoleDoc.paths[openApiPath(url)]?.[method.toLowerCase()], `${method} ${url} is missing`)
      const registered = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`))
      for (const [path, ops] of Object.entries<any>(consoleDoc.paths))
        for (const method of Object.keys(ops)) assert.ok(registered.has(`${method} ${path}`), `${method} ${path}`)
      assert.ok(consoleDoc.paths['/console/api/login'].post)
      assert.equal(doc.paths['/console/api/login'], undefined, 'not documented where not served')
    } finally {
      await withConsole.close()
    }
  })

  test('request schemas are the ones the server validates with', () => {
    assert.deepEqual(doc.components.schemas.AccessTokenRequest, requestSchema(AccessTokenRequest))
    assert.deepEqual(doc.components.schemas.TtsBytesRequest, requestSchema(TtsBytesRequest))
    assert.deepEqual(doc.components.schemas.WsGenerationRequest, requestSchema(WsGenerationRequest))
    assert.deepEqual(doc.paths['/access-token'].post.requestBody.content['application/json'].schema, {
      $ref: '#/components/schemas/AccessTokenRequest',
    })
    const limit = doc.paths['/voices'].get.parameters.find((p: any) => p.name === 'limit')
    assert.equal(limit.in, 'query')
    assert.equal(limit.schema.maximum, 100)
  })

  test('every catalogue error code, and the codes each route can answer by status', () => {
    assert.deepEqual(doc.components.schemas.Error.properties.error_code.enum, Object.keys(ERROR_CATALOGUE))
    assert.deepEqual(Object.keys(doc['x-error-catalogue']), Object.keys(ERROR_CATALOGUE))
    const codes = (path: string, method: string, status: string): string[] =>
      doc.paths[path][method].responses[status]?.content['application/json'].schema.allOf[1].properties.error_code
        .enum ?? []
    assert.deepEqual(
      new Set(codes('/tts/bytes', 'post', '401')),
      new Set(['missing_credentials', 'invalid_credentials', 'token_expired', 'token_revoked']),
    )
    assert.ok(codes('/tts/bytes', 'post', '403').includes('insufficient_scope'))
    assert.ok(codes('/tts/bytes', 'post', '429').includes('quota_exceeded'))
    assert.ok(codes('/access-token', 'post', '403').includes('api_key_required'))
    assert.deepEqual(codes('/voices/{id}', 'get', '404'), ['voice_not_found'])
    assert.equal(doc.paths['/healthz'].get.responses['401'], undefined)
    // Every documented error status carries codes whose catalogue status is that status.
    for (const ops of Object.values<any>(doc.paths)) {
      for (const op of Object.values<any>(ops)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          const listed: string[] =
            response.content?.['application/json']?.schema?.allOf?.[1]?.properties.error_code.enum ?? []
          for (const code of listed)
            assert.equal(String(ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].status), status, code)
        }
      }
    }
  })

  test('credential schemes: bearer, X-API-Key, query tokens on WebSocket upgrades only, the cookie', () => {
    const schemes = doc.components.securitySchemes
    assert.deepEqual(schemes.bearer, { ...schemes.bearer, type: 'http', scheme: 'bearer' })
    assert.equal(schemes.apiKeyHeader.name, 'X-API-Key')
    assert.deepEqual([schemes.accessTokenQuery.in, schemes.accessTokenQuery.name], ['query', 'access_token'])
    assert.deepEqual([schemes.tokenCookie.in, schemes.tokenCookie.name], ['cookie', 'vg_token'])
    const names = (path: string, method: string) =>
      doc.paths[path][method].security.flatMap((s: object) => Object.keys(s))
    assert.ok(names('/tts/websocket', 'get').includes('accessTokenQuery'))
    assert.ok(!names('/tts/bytes', 'post').includes('accessTokenQuery'))
    assert.deepEqual(names('/access-token', 'post'), ['bearer', 'apiKeyHeader'])
    assert.deepEqual(doc.paths['/openapi.json'].get.security, [])
    assert.equal(doc.paths['/tts/bytes'].post['x-grant'], 'tts')
  })

  test('WebSocket routes carry their messages under x-websocket', () => {
    const ws = doc.paths['/tts/websocket'].get['x-websocket']
    assert.deepEqual(
      ws.clientMessages.oneOf.map((r: any) => r.$ref),
      ['WsGenerationRequest', 'WsCancelRequest', 'WsRefreshToken'].map((n) => `#/components/schemas/${n}`),
    )
    assert.ok(ws.serverEvents.includes('flush_done'))
    assert.equal(ws.closeCodes['4401'].includes('revoked'), true)
    assert.deepEqual(doc.paths['/stt/turns/websocket'].get['x-websocket'].clientMessages.oneOf, [
      { $ref: '#/components/schemas/SttTurnsCommand' },
    ])
    assert.ok(doc.components.schemas.ErrorEvent)
  })
})

describe('the document is generated from the route table', () => {
  /** The paths of the table's docs, first appearance first: the document's order. */
  const pathsOf = (table: RouteTable) => [...new Set(table.docs.map((d) => d.path))]

  test('its paths are the route docs of the features the app registered, in their order', async () => {
    assert.deepEqual(Object.keys(doc.paths), pathsOf(await routeTableOf(t)))
  })

  test('in gateway mode: the same document as local mode, from the relayed features', async () => {
    const fake = await FakeHttpUpstream.start()
    const gw = await startTestServer({
      allowedOrigins: ['https://app.example.com'],
      tokenCookieName: 'vg_token',
      upstreamUrl: fake.url,
      upstreamApiKey: 'sk_car_upstream-0123456789abcdef',
    })
    try {
      const gwDoc = (await call(gw.url, '/openapi.json')).json
      assert.deepEqual(Object.keys(gwDoc.paths), pathsOf(await routeTableOf(gw)))
      assert.deepEqual(gwDoc, doc)
    } finally {
      await gw.close()
      await fake.close()
    }
  })
})

describe('scopes in the document', () => {
  test("every operation's key carriers name the scope of the route's access decision", async () => {
    const table = await routeTableOf(t)
    for (const { method, url } of table.routes) {
      const op = doc.paths[openApiPath(url)][method.toLowerCase()]
      const access = routeAccess(table.access, method, url)
      const expected = access === 'public' || access === 'any' ? [] : [access]
      const bearer = op.security.find((s: Record<string, string[]>) => 'bearer' in s)
      if (access === 'public') assert.deepEqual(op.security, [], `${method} ${url}`)
      else assert.deepEqual(bearer.bearer, expected, `${method} ${url}`)
    }
  })
})
