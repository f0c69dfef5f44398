/**
 * `client.listen()` against an in-test STT socket that sends what voxgate never does: JSON that is
 * not an object (`null`, a number, a string, an array) and text that is not JSON. The session ignores
 * each such message (no exception escapes its socket handler) and goes on to the transcript after
 * them. The real server's messages are `listen.test.ts`'s.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import WebSocket, { WebSocketServer } from 'ws'
import { TokenSource, VoxgateClient, type ListenEvent, type WebSocketConstructor } from '../src/index.ts'

const ODD_MESSAGES = ['null', '42', '"transcript"', '[]', 'true', 'not json {']

let http: Server
let wss: WebSocketServer
let baseUrl: string

before(async () => {
  http = createServer((_req, res) => res.writeHead(404).end())
  wss = new WebSocketServer({ server: http, path: '/stt/websocket' })
  wss.on('connection', (ws) => {
    // Sent once the client's audio arrives: its message handler is attached by then.
    let oddSent = false
    ws.on('message', (data, isBinary) => {
      if (isBinary && !oddSent) {
        oddSent = true
        for (const m of ODD_MESSAGES) ws.send(m)
      }
      if (isBinary || data.toString() !== 'close') return
      ws.send(JSON.stringify({ type: 'transcript', is_final: true, text: 'hello there', words: [], duration: 0.5 }))
      ws.send(JSON.stringify({ type: 'done' }))
      ws.close(1000)
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
})
after(async () => {
  for (const ws of wss.clients) ws.terminate()
  await new Promise((resolve) => wss.close(resolve))
  await new Promise((resolve) => http.close(resolve))
})

test('messages that are not JSON objects are ignored, and the transcript after them arrives', async () => {
  const uncaught: unknown[] = []
  const onUncaught = (err: unknown) => uncaught.push(err)
  process.on('uncaughtException', onUncaught)
  const tokens = new TokenSource({
    fetchToken: async () => ({ token: 'tk_listen_messages', expires_at: Math.floor(Date.now() / 1000) + 600 }),
  })
  const client = new VoxgateClient({ baseUrl, tokens, WebSocket: WebSocket as unknown as WebSocketConstructor })
  try {
    async function* frames() {
      yield new Int16Array(1600)
    }
    const session = client.listen({ sampleRate: 16000, frames: frames() })
    const events: ListenEvent[] = []
    for (const type of ['final', 'error'] as const) session.on(type, (e) => events.push(e))
    assert.equal(await session.done, 'hello there')
    assert.deepEqual(
      events.map((e) => e.type),
      ['final'],
    )
    assert.deepEqual(uncaught, [])
  } finally {
    process.off('uncaughtException', onUncaught)
    client.close()
    tokens.close()
  }
})
