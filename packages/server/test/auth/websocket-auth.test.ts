import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { mint } from '../helpers/http.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'

let t: TestServer
before(async () => {
  t = await startTestServer()
})
after(() => t.close())

describe('WebSocket handshake authentication', () => {
  test('every carrier opens the socket: Bearer header, X-API-Key, ?access_token, ?api_key', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true } })
    const cases = [
      handshake(wsUrl(t.url), { authorization: `Bearer ${token}`, 'cartesia-version': '2026-08-14' }),
      handshake(wsUrl(t.url), { 'X-API-Key': t.apiKey }),
      handshake(wsUrl(t.url, `?cartesia_version=2026-08-14&access_token=${token}&cartesia_client=cartesia-js%2F4.2.0`)),
      handshake(wsUrl(t.url, `?cartesia_version=2024-06-10&api_key=${t.apiKey}`)),
      handshake(wsUrl(t.url, `?api_key=${token}`)),
    ]
    for (const h of await Promise.all(cases)) {
      assert.equal(h.status, 101)
      h.ws!.close()
    }
  })

  test('refused before the upgrade with an HTTP 401 and a JSON body', async () => {
    for (const [headers, code] of [
      [{}, 'missing_credentials'],
      [{ authorization: 'Bearer sk_vx_nope' }, 'invalid_credentials'],
      [{ authorization: 'Bearer eyJ.eyJ.x' }, 'invalid_credentials'],
    ] as const) {
      const h = await handshake(wsUrl(t.url), headers)
      assert.equal(h.status, 401)
      assert.equal(h.headers['www-authenticate'], 'Bearer error="invalid_token"')
      assert.equal(JSON.parse(h.body).error_code, code)
    }
  })

  test('a token without the tts grant gets a 403 before the upgrade', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { voices: true } })
    const h = await handshake(wsUrl(t.url, `?access_token=${token}`))
    assert.equal(h.status, 403)
    assert.equal(JSON.parse(h.body).error_code, 'insufficient_scope')
    assert.equal(h.headers['www-authenticate'], 'Bearer error="insufficient_scope"')
  })

  test('a path with no WebSocket behind it is a 404', async () => {
    for (const path of ['/agents/websocket', '/tts/websocket/extra', '/nope']) {
      const h = await handshake(`${t.url.replace('https', 'wss')}${path}`, { 'X-API-Key': t.apiKey })
      assert.equal(h.status, 404, path)
    }
  })
})
