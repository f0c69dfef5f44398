/**
 * Slow clients cannot hold connections for ever: headers must arrive within `headersTimeoutMs`
 * (a TLS handshake too), a body must keep up `bodyMinBytesPerSecond` after `bodyGraceMs`, and a whole
 * request must arrive within `requestTimeoutMs`. A slow but steady upload still succeeds, and a long
 * streaming response is not a slow request. Timeouts are tiny here; tests assert the outcome (the
 * answer, the closed socket), never how long it took. A test's own `timeout` only stops a hang.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect as tcpConnect } from 'node:net'
import { once } from 'node:events'
import { connect, type TLSSocket } from 'node:tls'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call } from '../helpers/http.ts'
import { firstVoice } from '../helpers/speech.ts'
import { sleep } from '../helpers/security.ts'

const GUARD = { timeout: 20_000 }
const RULES = { headersTimeoutMs: 300, requestTimeoutMs: 60_000, bodyMinBytesPerSecond: 1000, bodyGraceMs: 300 }
let t: TestServer
before(async () => {
  t = await startTestServer(RULES)
})
after(() => t.close())

interface Raw {
  socket: TLSSocket
  closed: Promise<string>
}

/** A TLS connection to `port` that records everything it receives; `closed` resolves with it. */
async function openRaw(port: number): Promise<Raw> {
  const socket = connect({ host: '127.0.0.1', port, servername: 'localhost' })
  await once(socket, 'secureConnect')
  let text = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => {
    text += d
  })
  socket.on('error', () => {}) // a cut connection may reset; `closed` still resolves
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve(text))) }
}

/** Writes `chunk` every `everyMs` until the socket closes (or `total` bytes have gone). */
function trickle(socket: TLSSocket, chunk: string, everyMs: number, total = Infinity): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0
    const timer = setInterval(() => {
      if (socket.destroyed || !socket.writable || sent >= total) return stop()
      socket.write(chunk)
      sent += chunk.length
    }, everyMs)
    const stop = () => {
      clearInterval(timer)
      resolve()
    }
    socket.once('close', stop)
  })
}

/** Splits one HTTP/1.1 response: status line, lower-cased headers, body. */
function parseResponse(text: string): { statusLine: string; headers: Record<string, string>; body: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  )
  return { statusLine, headers, body }
}

/** The answer to a request that did not arrive in time: 408 request_timeout in our shape, then close. */
function assertTimedOut(text: string): void {
  const res = parseResponse(text)
  assert.equal(res.statusLine, 'HTTP/1.1 408 Request Timeout', text)
  assert.equal(res.headers.connection, 'close')
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  assert.equal(JSON.parse(res.body).error_code, 'request_timeout')
}

const head = (path: string, headers: Record<string, string>, length: number): string =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('') +
  '\r\n'

describe('a body trickled below the minimum rate', () => {
  test('is cut with 408 request_timeout and Connection: close', GUARD, async () => {
    const raw = await openRaw(t.server.port)
    raw.socket.write(head('/access-token', bearer(t.apiKey), 1000))
    void trickle(raw.socket, ' ', 100)
    const text = await raw.closed
    assertTimedOut(text)
    const res = parseResponse(text)
    assert.equal(JSON.parse(res.body).request_id, res.headers['x-request-id'])
  })

  test('part of a small body with the headers, the rest trickled → 408 request_timeout', GUARD, async () => {
    // The first bytes arrive in the headers' read (as a whole small body usually does, which is then
    // parsed without the guard's stream); the rest never keeps up, so the parse still fails with 408.
    const json = JSON.stringify({ grants: { tts: true }, expires_in: 60 })
    const raw = await openRaw(t.server.port)
    raw.socket.write(head('/access-token', bearer(t.apiKey), json.length + 1000) + json)
    void trickle(raw.socket, ' ', 100)
    assertTimedOut(await raw.closed)
  })

  test('after an early answer (no credential → 401), the unread trickle is cut too', GUARD, async () => {
    const raw = await openRaw(t.server.port)
    raw.socket.write(head('/access-token', {}, 1000))
    void trickle(raw.socket, ' ', 100)
    const res = parseResponse(await raw.closed)
    assert.equal(res.statusLine, 'HTTP/1.1 401 Unauthorized')
    assert.equal(JSON.parse(res.body).error_code, 'missing_credentials')
  })
})

describe('a slow upload above the minimum rate', () => {
  test('succeeds though it outlasts the grace and the headers timeout', GUARD, async () => {
    // 20 KB at about 20 KB/s (1 KB every 50 ms): twenty times the minimum, for about a second.
    const json = JSON.stringify({ grants: { tts: true }, expires_in: 60 })
    const body = json + ' '.repeat(20 * 1024 - json.length)
    const raw = await openRaw(t.server.port)
    raw.socket.write(head('/access-token', { ...bearer(t.apiKey), connection: 'close' }, body.length))
    for (let i = 0; i < body.length; i += 1024) {
      raw.socket.write(body.slice(i, i + 1024))
      await sleep(50)
    }
    const res = parseResponse(await raw.closed)
    assert.equal(res.statusLine, 'HTTP/1.1 200 OK', res.body)
    assert.match(JSON.parse(res.body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '')).token, /^eyJ/)
  })
})

describe('headers that never finish', () => {
  test('headers trickled byte by byte → 408 request_timeout, closed', GUARD, async () => {
    const raw = await openRaw(t.server.port)
    raw.socket.write('POST /access-token HTTP/1.1\r\n')
    void trickle(raw.socket, 'x', 50)
    assertTimedOut(await raw.closed)
  })

  test('a TLS connection that sends nothing → 408 request_timeout, closed', GUARD, async () => {
    const raw = await openRaw(t.server.port)
    assertTimedOut(await raw.closed)
  })

  test('a TCP connection that never starts TLS → closed', GUARD, async () => {
    const socket = tcpConnect(t.server.port, '127.0.0.1')
    socket.on('error', () => {})
    await once(socket, 'close')
  })
})

describe('requestTimeoutMs: the whole request', () => {
  let s: TestServer
  before(async () => {
    s = await startTestServer({ headersTimeoutMs: 300, requestTimeoutMs: 600, bodyMinBytesPerSecond: 0 })
  })
  after(() => s.close())

  test('with no minimum rate, a trickled body is still cut at the request timeout', GUARD, async () => {
    const raw = await openRaw(s.server.port)
    raw.socket.write(head('/access-token', bearer(s.apiKey), 1000))
    void trickle(raw.socket, ' ', 100)
    assertTimedOut(await raw.closed)
  })

  test('a streaming response that outlasts it is not cut (it covers receiving only)', GUARD, async () => {
    const voice = await firstVoice(s.url, s.apiKey)
    const words = 200
    const res = await fetch(`${s.url}/tts/bytes`, {
      method: 'POST',
      headers: { ...bearer(s.apiKey), 'content-type': 'application/json' },
      body: JSON.stringify({
        model_id: 'sonic-3',
        transcript: 'word '.repeat(words),
        voice,
        output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 48000 },
      }),
    })
    assert.equal(res.status, 200)
    const reader = res.body!.getReader()
    let bytes = (await reader.read()).value!.byteLength
    await sleep(1500) // the reader stalls: the server is held mid-response by backpressure
    for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength
    assert.ok(bytes > 1_000_000, `${bytes} bytes: far more than socket buffers hold`)
    const again = await call(s.url, '/')
    assert.equal(again.status, 200)
  })
})

describe('options', () => {
  test('a headers timeout above the request timeout is refused at start', async () => {
    await assert.rejects(
      startTestServer({ headersTimeoutMs: 2000, requestTimeoutMs: 1000 }),
      /headers timeout must not exceed the request timeout/,
    )
  })
})
