/**
 * The console's open streams across instances (issue 23 item 3): with Redis, each instance publishes
 * its open streams every second and the live-events route of any instance shows the cluster's, up
 * and back down with a real WebSocket stream on another instance; an instance that stops leaves it.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call } from '../helpers/http.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { firstVoice, raw } from '../helpers/speech.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

const prefix = uniquePrefix()
let a: TestServer
let b: TestServer | undefined

before(async () => {
  a = await startTestServer({ console: true, redisUrl: SHARED_REDIS_URL, redisPrefix: prefix })
  b = await startTestServer({ console: true, redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, dataDir: a.dataDir })
})
after(async () => {
  await b?.close({ keepData: true })
  await a?.close()
  await dropPrefix(SHARED_REDIS_URL, prefix)
})

interface View {
  scope: string
  instances: number
  total: number
  by_transport: Record<string, number>
  streams: { sub: string | null; transport: string; count: number }[]
}

/** The `open_streams` events of A's live feed, read as a browser's EventSource would. */
class Feed {
  readonly #abort = new AbortController()
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  #buffer = ''
  private constructor(reader: ReadableStreamDefaultReader<Uint8Array>, abort: AbortController) {
    this.#reader = reader
    this.#abort = abort
  }
  static async open(url: string, key: string): Promise<Feed> {
    const abort = new AbortController()
    const res = await fetch(`${url}/console/api/events`, { headers: bearer(key), signal: abort.signal })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    return new Feed(res.body!.getReader(), abort)
  }
  /** Reads events until one matches. */
  async until(match: (v: View) => boolean): Promise<View> {
    const decoder = new TextDecoder()
    for (;;) {
      let end = this.#buffer.indexOf('\n\n')
      while (end >= 0) {
        const frame = this.#buffer.slice(0, end)
        this.#buffer = this.#buffer.slice(end + 2)
        const data = /^event: open_streams\ndata: (.*)$/.exec(frame)?.[1]
        if (data) {
          const view = JSON.parse(data) as View
          if (match(view)) return view
        }
        end = this.#buffer.indexOf('\n\n')
      }
      const { value, done } = await this.#reader.read()
      if (done) throw new Error('the feed ended')
      this.#buffer += decoder.decode(value, { stream: true })
    }
  }
  close(): void {
    this.#abort.abort()
  }
}

test('a stream on B shows on A as cluster-wide open streams, up and back down; B leaving leaves the count', async () => {
  const feed = await Feed.open(a.url, a.apiKey)
  try {
    const idle = await feed.until((v) => v.instances === 2)
    assert.equal(idle.scope, 'cluster')
    assert.equal(idle.total, 0)
    const voice = await firstVoice(b!.url, b!.apiKey)
    const token = (
      await call(b!.url, '/access-token', { headers: bearer(b!.apiKey), body: { sub: 'dave', expires_in: 60 } })
    ).json.token as string
    const ws = await WsSession.open(wsUrl(b!.url), { authorization: `Bearer ${token}` })
    ws.send({
      model_id: 'sonic-3',
      voice,
      output_format: raw(),
      context_id: 'c1',
      transcript: 'Still talking',
      continue: true,
    })
    const up = await feed.until((v) => v.total === 1)
    assert.deepEqual(up.by_transport, { bytes: 0, sse: 0, websocket: 1, stt: 0 })
    assert.deepEqual(
      up.streams.map((s) => [s.sub, s.transport, s.count]),
      [['dave', 'websocket', 1]],
    )
    ws.close()
    await ws.closed()
    const down = await feed.until((v) => v.total === 0)
    assert.deepEqual(down.streams, [])
    await b!.close({ keepData: true })
    b = undefined
    const alone = await feed.until((v) => v.instances === 1)
    assert.equal(alone.scope, 'cluster')
  } finally {
    feed.close()
  }
})
