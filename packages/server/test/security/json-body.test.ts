/**
 * A JSON body is read from the request at once when it came whole with its headers, and through the
 * stream otherwise (http/json-body.ts): either way a request gets the same answer. (The body limit
 * is checked against Content-Length before either: test/security/limits.test.ts.)
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:tls'
import { decodeJwt } from 'jose'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer } from '../helpers/http.ts'

let t: TestServer
before(async () => {
  t = await startTestServer()
})
after(() => t.close())

/**
 * POSTs `body` to /access-token over a raw TLS connection: with its headers in one write (`whole`),
 * or the headers first and the body in two writes, split inside a multi-byte character where there
 * is one, after the server has read the headers. Resolves with the status and the JSON answer.
 */
async function post(body: string, whole: boolean): Promise<{ status: number; json: Record<string, unknown> }> {
  const bytes = Buffer.from(body)
  const socket = connect({ host: '127.0.0.1', port: t.server.port, servername: 'localhost' })
  await once(socket, 'secureConnect')
  let text = ''
  socket.on('error', () => {}) // a connection the server closes may reset; `close` still comes
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => {
    text += d
  })
  const head =
    'POST /access-token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n' +
    `Authorization: ${bearer(t.apiKey).authorization}\r\nContent-Length: ${bytes.length}\r\n\r\n`
  if (whole) socket.write(Buffer.concat([Buffer.from(head), bytes]))
  else {
    socket.write(head)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const split = Math.max(1, bytes.indexOf(0xc3) + 1)
    socket.write(bytes.subarray(0, split))
    await new Promise((resolve) => setTimeout(resolve, 20))
    socket.write(bytes.subarray(split))
  }
  await once(socket, 'close')
  const [statusLine = '', answer = ''] = [text.slice(0, text.indexOf('\r\n')), text.split('\r\n\r\n', 2)[1]]
  return { status: Number(statusLine.split(' ')[1]), json: JSON.parse(answer || '{}') as Record<string, unknown> }
}

describe('a JSON body whole with its headers or arriving after them', () => {
  const cases: [string, string, number, string | undefined][] = [
    ['a mint', JSON.stringify({ grants: { tts: true }, expires_in: 60, sub: 'end-user é' }), 200, undefined],
    ['JSON that does not parse', '{"grants": {', 400, 'invalid_request'],
    ['a prototype key', '{"__proto__": {"x": 1}}', 400, 'invalid_request'],
  ]
  for (const [name, body, status, code] of cases) {
    test(`${name}: ${status}${code ? ` ${code}` : ''} both ways`, async () => {
      for (const whole of [true, false]) {
        const res = await post(body, whole)
        assert.equal(res.status, status, `${whole ? 'whole' : 'after the headers'}: ${JSON.stringify(res.json)}`)
        if (code) assert.equal(res.json.error_code, code)
        else assert.equal(decodeJwt(res.json.token as string).sub, 'end-user é')
      }
    })
  }
})
