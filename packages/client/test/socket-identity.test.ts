/**
 * A socket belongs to one user: when the signed-in user changes, the client opens a fresh socket for
 * the new user's token instead of refreshing the old one in band (which voxgate refuses with
 * `identity_mismatch`). Real server, real `ws`.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import WebSocket from 'ws'
import { startTestServer, type TestServer } from '../../server/test/helpers/server.ts'
import { bearer, call, mint } from '../../server/test/helpers/http.ts'
import { TokenSource, VoxgateClient, type WebSocketConstructor } from '../src/index.ts'

const sent: { socket: number; data: string }[] = []
let opened = 0
class RecordingWebSocket extends WebSocket {
  readonly n = ++opened
  override send(data: any, ...rest: any[]): void {
    if (typeof data === 'string') sent.push({ socket: this.n, data })
    ;(super.send as (...a: unknown[]) => void)(data, ...rest)
  }
}

let server: TestServer
let tokens: TokenSource
let client: VoxgateClient
let voice: string
let user = 'ann'

before(async () => {
  server = await startTestServer()
  voice = (await call(server.url, '/voices?limit=1', { headers: bearer(server.apiKey) })).json.data[0].id
  tokens = new TokenSource({
    fetchToken: async () => {
      const token = await mint(server.url, server.apiKey, { grants: { tts: true }, sub: user, expires_in: 600 })
      return { token, expires_at: Math.floor(Date.now() / 1000) + 600 }
    },
  })
  client = new VoxgateClient({
    baseUrl: server.url,
    tokens,
    WebSocket: RecordingWebSocket as unknown as WebSocketConstructor,
  })
})

after(async () => {
  client.close()
  tokens.close()
  await server.close()
})

async function speakOnce(): Promise<number> {
  let bytes = 0
  const request = {
    model_id: 'sonic-3',
    voice,
    transcript: 'One two.',
    output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  } as const
  for await (const chunk of client.speak(request, { transport: 'websocket' })) bytes += chunk.audio.byteLength
  return bytes
}

test('a new signed-in user gets a new socket; the old one is never refreshed with their token', async () => {
  assert.equal(await speakOnce(), 2 * 2 * 960)
  assert.equal(opened, 1)
  user = 'ben'
  await tokens.refresh()
  assert.equal(await speakOnce(), 2 * 2 * 960)
  assert.equal(opened, 2, 'a second socket for the second user')
  assert.equal(
    sent.some((m) => m.data.includes('refresh_token')),
    false,
    'no in-band refresh across users',
  )
  assert.ok(sent.filter((m) => m.socket === 2).length > 0)
  // The same user's next token still extends the current socket in band.
  await tokens.refresh()
  const refreshes = () => sent.filter((m) => m.socket === 2 && m.data.includes('refresh_token')).length
  for (let i = 0; i < 500 && refreshes() === 0; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(sent.filter((m) => m.socket === 2 && m.data.includes('refresh_token')).length, 1)
  assert.equal(opened, 2)
})
