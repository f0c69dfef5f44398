/**
 * The WebSocket router (issue 21 item 3): it dispatches a handshake by path to the feature that owns
 * it, local or relayed alike, so an unknown path is the same 404 `not_found` in both modes, every
 * feature's path reaches that feature's own checks, and two features claiming one path, or a path with no
 * route doc (so no access decision), stop the start.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createWebSocketTransport } from '../../src/app/websocket-router.ts'
import { localSpeech, localStt } from '../../src/app/local-features.ts'
import type { Feature } from '../../src/app/feature.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { handshake } from '../helpers/ws.ts'

let local: TestServer
let gateway: TestServer
let fake: FakeHttpUpstream
before(async () => {
  local = await startTestServer()
  fake = await FakeHttpUpstream.start()
  gateway = await startTestServer({ upstreamUrl: fake.url, upstreamApiKey: 'sk_car_upstream-0123456789abcdef' })
})
after(async () => {
  await local.close()
  await gateway.close()
  await fake.close()
})

const wss = (server: TestServer, path: string) => `${server.url.replace(/^https/, 'wss')}${path}`

for (const mode of ['local', 'gateway'] as const) {
  describe(`${mode} mode`, () => {
    const server = () => (mode === 'local' ? local : gateway)

    for (const path of ['/nope', '/tts/websocket/', '/stt', '/tts/bytes']) {
      test(`${path}: 404 not_found on the handshake, with its request id`, async () => {
        const res = await handshake(wss(server(), path))
        assert.equal(res.status, 404)
        const body = JSON.parse(res.body)
        assert.equal(body.error_code, 'not_found')
        assert.equal(body.message, 'No WebSocket at this path.')
        assert.equal(body.request_id, res.headers['x-request-id'])
      })
    }

    for (const path of ['/tts/websocket', '/stt/websocket', '/stt/turns/websocket']) {
      test(`${path} reaches its feature: no credential is a 401 before any upgrade`, async () => {
        const res = await handshake(wss(server(), path))
        assert.equal(res.status, 401)
        assert.equal(JSON.parse(res.body).error_code, 'missing_credentials')
        assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
      })
    }
  })
}

test('two features that claim one socket path stop the start, naming both', () => {
  const ctx = local.server.ctx
  const impostor: Feature = { ...localStt(ctx), sockets: localSpeech(ctx).sockets }
  assert.throws(() => createWebSocketTransport(ctx, { features: [localSpeech(ctx), impostor] }), {
    message: 'Both speech and speech to text serve WebSocket /tts/websocket.',
  })
})

test('a socket path with no route doc stops the start: its access decision would be missing', () => {
  const ctx = local.server.ctx
  const undocumented: Feature = { ...localSpeech(ctx), docs: [] }
  assert.throws(() => createWebSocketTransport(ctx, { features: [undocumented] }), {
    code: 'internal_error',
    message: 'route GET /tts/websocket has no access decision',
  })
})
