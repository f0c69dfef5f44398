/**
 * The gateway keeps its upstream connection alive across relayed requests, SSE included: an SSE
 * answer is read to its end after the terminal event instead of being destroyed, so against a
 * remote upstream no request pays a new TCP and TLS handshake. Counted with a TCP proxy in between.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { bearer, call, mint } from '../helpers/http.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let upstream: TestServer
let gw: TestServer
let proxy: net.Server
let accepted = 0

before(async () => {
  upstream = await startTestServer()
  proxy = net.createServer((client) => {
    accepted += 1
    const to = net.connect(upstream.server.port, '127.0.0.1')
    client.pipe(to).pipe(client)
    client.on('error', () => to.destroy()).on('close', () => to.destroy())
    to.on('error', () => client.destroy()).on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  gw = await startTestServer({
    upstreamUrl: `https://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    upstreamApiKey: upstream.apiKey,
  })
})
after(async () => {
  await gw.close()
  await new Promise<void>((resolve) => proxy.close(() => resolve()))
  await upstream.close()
})

test('six relayed requests, bytes and SSE in turn, travel over the one upstream connection the start check opened', async () => {
  const [voice] = (await voiceIds(upstream.url, upstream.apiKey, 1)) as [string]
  const token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600 })
  assert.equal(accepted, 1, 'the start check opened one connection')
  for (let i = 0; i < 3; i++) {
    for (const transport of ['sse', 'bytes'] as const) {
      const res = await call(gw.url, `/tts/${transport}`, {
        headers: bearer(token),
        body: ttsBody(voice, 'Hello there.'),
      })
      assert.equal(res.status, 200)
      if (transport === 'sse') assert.match(res.text, /event: done/)
    }
  }
  assert.equal(accepted, 1)
})
