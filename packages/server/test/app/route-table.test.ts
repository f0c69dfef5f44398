/**
 * The route table (app/route-table.ts, issue 21 item 3): the app registers the features it lists and
 * nothing else, each route with one doc. A route with no doc, or a doc given twice, stops the build,
 * so no route can be served undocumented and without an access decision.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp } from '../../src/app/app.ts'
import type { Feature } from '../../src/app/feature.ts'
import { appFeatures } from '../../src/app/route-table.ts'
import { STATUS_DOCS } from '../../src/routes/status.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let t: TestServer
before(async () => {
  t = await startTestServer()
})
after(() => t.close())

test('the features are registered in the table order: status first, then health and OpenAPI', () => {
  assert.deepEqual(
    appFeatures(t.server.ctx)
      .slice(0, 4)
      .map((f) => f.name),
    ['status', 'health', 'openapi', 'access tokens'],
  )
})

test('a route registered with no doc stops the build, naming it', () => {
  const undocumented: Feature = { name: 'extra', routes: (app) => app.get('/extra', async () => ({})), docs: [] }
  assert.throws(() => buildApp(t.server.ctx, undefined, { features: [undocumented] }), {
    code: 'internal_error',
    message: 'route GET /extra has no access decision',
  })
})

test('a route documented twice stops the build, naming it', () => {
  const status = appFeatures(t.server.ctx)[0]!
  const twice: Feature = { ...status, docs: [...STATUS_DOCS, STATUS_DOCS[0]!] }
  assert.throws(() => buildApp(t.server.ctx, undefined, { features: [twice] }), {
    message: 'GET / is documented twice.',
  })
})
