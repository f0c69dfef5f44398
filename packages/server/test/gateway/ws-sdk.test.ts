/**
 * The official @cartesia/cartesia-js v4 over WebSocket through a gateway whose upstream is a second
 * voxgate (a real Cartesia-compatible API with its own key): a gateway token gets the same audio and
 * timestamps as the upstream's own key straight to the upstream, contexts with `continue` and flush
 * included; a revoke on the gateway ends the relayed socket, and the upstream's streams with it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { bearer, call, mint } from '../helpers/http.ts'
import { voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

const require = createRequire(import.meta.url)
const { Cartesia } = require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js')
type Client = InstanceType<typeof Cartesia>

let upstream: TestServer
let gw: TestServer
let voice: string

before(async () => {
  upstream = await startTestServer()
  gw = await startTestServer({ upstreamUrl: upstream.url, upstreamApiKey: upstream.apiKey })
  ;[voice] = (await voiceIds(upstream.url, upstream.apiKey, 1)) as [string]
})
after(async () => {
  assert.ok(!gw.logs.text().includes(upstream.apiKey), "the upstream key is in the gateway's logs")
  await gw.close()
  await upstream.close()
})

interface Spoken {
  audio: Buffer
  words: string[]
  ends: number[]
  types: string[]
}

/** Two multiplexed contexts: one streamed in pieces with a flush, one with word timestamps. */
async function speakBoth(client: Client): Promise<{ a: Spoken; b: Spoken }> {
  const ws = await client.tts.websocket()
  try {
    const options = {
      model_id: 'sonic-3',
      voice,
      output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
    } as const
    const a = ws.context({ ...options, contextId: 'ctx-a', add_timestamps: true } as never)
    const b = ws.context({ ...options, contextId: 'ctx-b', add_timestamps: true } as never)
    await a.push({ transcript: 'Hello from the first ' })
    await b.send({ transcript: 'And this is the second context speaking.' } as never)
    await a.push({ transcript: 'context, streamed in pieces.' })
    await a.flush()
    await a.no_more_inputs()
    const drain = async (ctx: typeof a): Promise<Spoken> => {
      const events: any[] = []
      for await (const e of ctx.receive({ timeout: 20_000 })) events.push(e)
      const stamps = events.filter((e) => e.type === 'timestamps').map((e) => e.word_timestamps)
      return {
        audio: Buffer.concat(events.filter((e) => e.type === 'chunk').map((e) => Buffer.from(e.data, 'base64'))),
        words: stamps.flatMap((w) => w.words),
        ends: stamps.flatMap((w) => w.end),
        types: [...new Set(events.map((e) => e.type))].sort(),
      }
    }
    const [ea, eb] = await Promise.all([drain(a), drain(b)])
    return { a: ea, b: eb }
  } finally {
    ws.close()
  }
}

describe('@cartesia/cartesia-js through the gateway', () => {
  test('tts.websocket with a gateway token: the same audio and timestamps as straight to the upstream', async () => {
    const token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600 })
    const direct = await speakBoth(new Cartesia({ apiKey: upstream.apiKey, baseURL: upstream.url }))
    const relayed = await speakBoth(new Cartesia({ token, baseURL: gw.url }))
    for (const id of ['a', 'b'] as const) {
      assert.ok(direct[id].audio.length > 3200, `${id} spoke`)
      assert.ok(
        relayed[id].audio.equals(direct[id].audio),
        `${id}: ${relayed[id].audio.length} bytes relayed, ${direct[id].audio.length} direct`,
      )
      assert.deepEqual(relayed[id].words, direct[id].words)
      assert.deepEqual(relayed[id].ends, direct[id].ends)
      assert.deepEqual(relayed[id].types, direct[id].types)
    }
    assert.ok(relayed.a.types.includes('flush_done'))
    const self = await call(gw.url, '/access-token/self', { headers: bearer(token) })
    assert.equal(self.status, 200)
    const spoken =
      'Hello from the first context, streamed in pieces.'.length + 'And this is the second context speaking.'.length
    assert.equal(self.json.usage.characters, spoken, 'the gateway charged what it forwarded')
  })

  test("a revoke on the gateway ends a relayed socket within 1 s (token_revoked per context, then 4401) and the upstream's streams end", async () => {
    const token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600 })
    const upstreamStreams = upstream.server.ctx.streams
    const s = await WsSession.open(wsUrl(gw.url, `?access_token=${token}`))
    for (const id of ['a', 'b'])
      s.send({
        model_id: 'sonic-3',
        voice,
        output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
        transcript: '',
        context_id: id,
        continue: true,
      })
    // The upstream holds the socket (watched) and both contexts.
    await waitFor(() => upstreamStreams.size === 3)
    const t0 = performance.now()
    assert.equal(
      (await call(gw.url, '/access-token/revoke', { headers: bearer(gw.apiKey), body: { token } })).status,
      200,
    )
    assert.equal(await s.closed(), 4401)
    const elapsed = performance.now() - t0
    assert.ok(elapsed < 1000, `closed ${Math.round(elapsed)} ms after the revoke call`)
    for (const id of ['a', 'b']) assert.equal((await s.end(id)).error_code, 'token_revoked')
    await waitFor(() => upstreamStreams.size === 0)
  })
})

/** Polls in-process state that has no event of its own (the upstream's stream registry). */
async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10))
}
