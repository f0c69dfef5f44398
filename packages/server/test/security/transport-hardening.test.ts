/**
 * Transport hardening: TLS 1.2 offers only ECDHE with AEAD ciphers (a client with only a CBC-SHA1
 * suite is refused at the handshake); HTTPS responses carry Strict-Transport-Security; and an
 * `Origin: null` WebSocket is refused like any origin not on the allowlist.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type ConnectionOptions } from 'node:tls'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'

const APP = 'https://app.example'
let t: TestServer
before(async () => {
  t = await startTestServer({ allowedOrigins: [APP] })
})
after(() => t.close())

/** A real TLS handshake with the server: the cipher it agreed to, or the error that ended it. */
function tlsHandshake(
  options: ConnectionOptions,
): Promise<{ cipher?: string; version?: string | null; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: t.server.port, servername: 'localhost', ...options })
    socket.once('secureConnect', () => {
      resolve({ cipher: socket.getCipher().name, version: socket.getProtocol() })
      socket.destroy()
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }))
  })
}
const tls12 = (ciphers: string) => tlsHandshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers })

describe('TLS cipher suites', () => {
  test('TLS 1.2 with only CBC-SHA1 suites → handshake refused', async () => {
    for (const suite of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256']) {
      const r = await tls12(suite)
      assert.equal(r.cipher, undefined, `${suite} was accepted`)
      assert.equal(r.error, 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', suite)
    }
  })

  test('TLS 1.2 with an ECDHE-AEAD suite → accepted with that suite', async () => {
    for (const suite of [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
    ]) {
      const r = await tls12(suite)
      assert.deepEqual(r, { cipher: suite, version: 'TLSv1.2' })
    }
  })

  test('TLS 1.3 → accepted', async () => {
    const r = await tlsHandshake({ minVersion: 'TLSv1.3' })
    assert.equal(r.version, 'TLSv1.3')
    assert.match(r.cipher ?? '', /^TLS_(AES_128_GCM|AES_256_GCM|CHACHA20_POLY1305)_SHA(256|384)$/)
  })

  test('TLS 1.1 → refused', async () => {
    const r = await tlsHandshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })
    assert.equal(r.cipher, undefined)
    assert.ok(r.error, 'an error ended the handshake')
  })
})

describe('Strict-Transport-Security', () => {
  test('on HTTPS responses, one year by default: success and error alike', async () => {
    for (const path of ['/', '/no-such-route', '/voices']) {
      const res = await call(t.url, path)
      assert.equal(res.headers.get('strict-transport-security'), 'max-age=31536000', path)
    }
  })

  test('hstsMaxAgeSeconds sets it; 0 sends none', async () => {
    for (const [hstsMaxAgeSeconds, expected] of [
      [600, 'max-age=600'],
      [0, null],
    ] as const) {
      const s = await startTestServer({ hstsMaxAgeSeconds })
      try {
        assert.equal((await call(s.url, '/')).headers.get('strict-transport-security'), expected)
      } finally {
        await s.close()
      }
    }
  })

  test('behind a proxy: only on what a trusted proxy says it served over HTTPS', async () => {
    const s = await startTestServer({ insecureHttpBehindProxy: true })
    try {
      assert.equal(
        (await call(s.url, '/', { headers: { 'x-forwarded-proto': 'https' } })).headers.get(
          'strict-transport-security',
        ),
        'max-age=31536000',
      )
      assert.equal((await call(s.url, '/')).headers.get('strict-transport-security'), null)
      assert.equal(
        (await call(s.url, '/', { headers: { 'x-forwarded-proto': 'http' } })).headers.get('strict-transport-security'),
        null,
      )
    } finally {
      await s.close()
    }
    const untrusted = await startTestServer({ insecureHttpBehindProxy: true, trustedProxies: ['192.0.2.1'] })
    try {
      assert.equal(
        (await call(untrusted.url, '/', { headers: { 'x-forwarded-proto': 'https' } })).headers.get(
          'strict-transport-security',
        ),
        null,
      )
    } finally {
      await untrusted.close()
    }
  })
})

describe('Origin: null on the WebSocket (allowlist set)', () => {
  let token: string
  before(async () => {
    token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
  })

  test('a query token with Origin: null → HTTP 403 origin_not_allowed before the upgrade', async () => {
    const h = await handshake(wsUrl(t.url, `?access_token=${token}`), { origin: 'null' })
    assert.equal(h.status, 403)
    assert.equal(JSON.parse(h.body).error_code, 'origin_not_allowed')
  })

  test('a header credential with Origin: null → 403 too', async () => {
    const h = await handshake(wsUrl(t.url), { ...bearer(token), origin: 'null' })
    assert.equal(h.status, 403)
    assert.equal(JSON.parse(h.body).error_code, 'origin_not_allowed')
  })

  test('controls: the allowed origin, and no Origin at all (not a browser), open', async () => {
    for (const headers of [{ origin: APP }, {}] as Record<string, string>[]) {
      const h = await handshake(wsUrl(t.url, `?access_token=${token}`), headers)
      assert.equal(h.status, 101, JSON.stringify(headers))
      h.ws?.close()
    }
  })

  test('a token limited to an origin is refused with Origin: null over HTTP', async () => {
    const limited = await mint(t.url, t.apiKey, {
      grants: { voices: true },
      expires_in: 600,
      limits: { origins: [APP] },
    })
    const res = await call(t.url, '/voices', { headers: { ...bearer(limited), origin: 'null' } })
    assert.equal(res.status, 403)
    assert.equal(res.json.error_code, 'origin_not_allowed')
    assert.equal((await call(t.url, '/voices', { headers: { ...bearer(limited), origin: APP } })).status, 200)
  })
})
