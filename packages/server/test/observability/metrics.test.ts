import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { countCharacters } from '@voxgate/protocol'
import { bearer, call, mint } from '../helpers/http.ts'
import { scrape, Scrape } from '../helpers/prometheus.ts'
import { openInbox, ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { createMetrics } from '../../src/metrics/prometheus.ts'
import { meteredStore } from '../../src/metrics/store.ts'
import type { Store } from '../../src/store/types.ts'

let t: TestServer
let metricsUrl: string
let voice: string

before(async () => {
  t = await startTestServer({ metrics: true, metricsPort: 0 })
  metricsUrl = t.server.metricsUrl!
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
})
after(() => t.close())

/** Scrapes until `check` holds (events such as a socket's close are seen by the server a moment later). */
async function scrapeUntil(check: (s: Scrape) => boolean): Promise<Scrape> {
  for (let i = 0; ; i++) {
    const s = await scrape(metricsUrl)
    if (check(s) || i === 200) return s
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('GET /metrics', () => {
  test('is on its own loopback listener, not on the public port', async () => {
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const pub = await call(t.url, '/metrics')
    assert.equal(pub.status, 404)
    assert.equal(pub.json.error_code, 'not_found')
    const other = await fetch(metricsUrl.replace(/\/metrics$/, '/'))
    assert.equal(other.status, 404)
    const res = await fetch(metricsUrl)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  })

  test("carries Node's process metrics and the pool gauges", async () => {
    const s = await scrape(metricsUrl)
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_total_bytes',
      'nodejs_eventloop_lag_seconds',
    ])
      assert.ok(s.families.has(name), name)
    assert.equal(s.families.get('voxgate_speech_queue_depth')?.type, 'GAUGE')
    assert.equal(s.value('voxgate_speech_queue_depth'), 0)
    assert.equal(s.value('voxgate_speech_workers_busy'), 0)
  })

  test('minting 3 tokens moves tokens minted by exactly 3', async () => {
    const before = (await scrape(metricsUrl)).value('voxgate_tokens_minted_total')
    for (let i = 0; i < 3; i++) await mint(t.url, t.apiKey)
    const s = await scrape(metricsUrl)
    assert.equal(s.value('voxgate_tokens_minted_total') - before, 3)
  })

  test('a bytes request: characters synthesized +N, one first-audio and one duration observation, no stream left open', async () => {
    const transcript = 'Hello there, metrics. 😀 <break time="100ms"/> Two sentences.'
    const token = await mint(t.url, t.apiKey)
    const s0 = await scrape(metricsUrl)
    const res = await fetch(`${t.url}/tts/bytes`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify(ttsBody(voice, transcript)),
    })
    assert.equal(res.status, 200)
    assert.ok((await res.arrayBuffer()).byteLength > 0)
    const s1 = await scrape(metricsUrl)
    assert.equal(
      s1.value('voxgate_characters_synthesized_total') - s0.value('voxgate_characters_synthesized_total'),
      countCharacters(transcript),
    )
    const bytes = { transport: 'bytes' }
    assert.equal(
      s1.count('voxgate_time_to_first_audio_seconds', bytes) - s0.count('voxgate_time_to_first_audio_seconds', bytes),
      1,
    )
    assert.equal(
      s1.count('voxgate_stream_duration_seconds', bytes) - s0.count('voxgate_stream_duration_seconds', bytes),
      1,
    )
    assert.equal(s1.value('voxgate_open_streams', bytes), 0)
    const route = { method: 'POST', route: '/tts/bytes', status: '200' }
    assert.equal(s1.value('voxgate_http_requests_total', route) - s0.value('voxgate_http_requests_total', route), 1)
  })

  test('SSE and WebSocket streams are observed under their own transport', async () => {
    const token = await mint(t.url, t.apiKey)
    const s0 = await scrape(metricsUrl)
    const sse = await fetch(`${t.url}/tts/sse`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify(ttsBody(voice, 'Over SSE.')),
    })
    assert.equal(sse.status, 200)
    await sse.text()
    const inbox = await openInbox(t.url, { query: `?access_token=${token}` })
    inbox.send({ ...ttsBody(voice, 'Over the socket.'), context_id: 'c1' })
    assert.equal((await inbox.terminal('c1')).type, 'done')
    inbox.ws.close(1000)
    const moved = (s: Scrape, name: string, transport: string) =>
      s.count(name, { transport }) - s0.count(name, { transport })
    const s1 = await scrapeUntil((s) => moved(s, 'voxgate_stream_duration_seconds', 'websocket') === 1)
    for (const transport of ['sse', 'websocket']) {
      assert.equal(moved(s1, 'voxgate_time_to_first_audio_seconds', transport), 1, transport)
      assert.equal(moved(s1, 'voxgate_stream_duration_seconds', transport), 1, transport)
      assert.equal(s1.value('voxgate_open_streams', { transport }), 0, transport)
    }
  })

  test('credential checks are counted by outcome', async () => {
    const s0 = await scrape(metricsUrl)
    assert.equal((await call(t.url, '/voices', { headers: bearer('sk_not_a_real_key_0123456789') })).status, 401)
    assert.equal((await call(t.url, '/voices')).status, 401)
    const ttsOnly = await mint(t.url, t.apiKey, { grants: { tts: true } })
    assert.equal((await call(t.url, '/voices', { headers: bearer(ttsOnly) })).status, 403)
    assert.equal((await call(t.url, '/voices', { headers: bearer(t.apiKey) })).status, 200)
    const s1 = await scrape(metricsUrl)
    const moved = (outcome: string) =>
      s1.value('voxgate_credential_checks_total', { outcome }) -
      s0.value('voxgate_credential_checks_total', { outcome })
    assert.equal(moved('invalid_credentials'), 1)
    assert.equal(moved('missing_credentials'), 1)
    assert.equal(moved('insufficient_scope'), 1)
    // The successful GET /voices and the mint above.
    assert.equal(moved('ok'), 2)
  })

  test('routes are labelled by template, never by the URL', async () => {
    const s0 = await scrape(metricsUrl)
    assert.equal((await call(t.url, '/voices/no-such-voice-4242', { headers: bearer(t.apiKey) })).status, 404)
    assert.equal((await call(t.url, '/nowhere/at-all-4242?x=1')).status, 404)
    const s1 = await scrape(metricsUrl)
    const byId = { method: 'GET', route: '/voices/:id', status: '404' }
    const unmatched = { method: 'GET', route: 'unmatched', status: '404' }
    assert.equal(s1.value('voxgate_http_requests_total', byId) - s0.value('voxgate_http_requests_total', byId), 1)
    assert.equal(
      s1.value('voxgate_http_requests_total', unmatched) - s0.value('voxgate_http_requests_total', unmatched),
      1,
    )
    assert.ok(!s1.labelValues().some((v) => v.includes('4242')))
  })

  test('revocations, and WebSocket closes by code', async () => {
    const token = await mint(t.url, t.apiKey)
    const s0 = await scrape(metricsUrl)
    const ws = new WebSocket(`${t.url.replace(/^https/, 'wss')}/tts/websocket?access_token=${token}`)
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    ws.close(1000)
    const closes = { endpoint: 'tts', code: '1000' }
    const s1 = await scrapeUntil(
      (s) => s.value('voxgate_websocket_closes_total', closes) > s0.value('voxgate_websocket_closes_total', closes),
    )
    assert.equal(
      s1.value('voxgate_websocket_closes_total', closes) - s0.value('voxgate_websocket_closes_total', closes),
      1,
    )
    assert.equal(
      (await call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body: { token } })).status,
      200,
    )
    const s2 = await scrape(metricsUrl)
    assert.equal(
      s2.value('voxgate_revocations_total', { kind: 'jti' }) - s0.value('voxgate_revocations_total', { kind: 'jti' }),
      1,
    )
  })

  test('no API key, token, sub or transcript appears anywhere in the metrics', async () => {
    const sub = 'end-user-sub-7f3a91'
    const transcript = 'A very particular sentence, zebra quartz.'
    const token = await mint(t.url, t.apiKey, { grants: { tts: true }, sub })
    await call(t.url, `/tts/bytes`, { headers: bearer(token), body: ttsBody(voice, transcript) })
    await call(t.url, '/voices', { headers: bearer(token) })
    await call(t.url, `/voices?access_token=${token}`)
    const { text } = await scrape(metricsUrl)
    for (const secret of [t.apiKey, token, token.split('.')[1]!, sub, 'zebra quartz'])
      assert.ok(!text.includes(secret), `metrics contain ${secret.slice(0, 12)}…`)
  })

  test('each server has its own registry', async () => {
    const other = await startTestServer({ metrics: true, metricsPort: 0 })
    try {
      const mineBefore = (await scrape(metricsUrl)).value('voxgate_tokens_minted_total')
      await mint(other.url, other.apiKey)
      await mint(other.url, other.apiKey)
      assert.equal((await scrape(other.server.metricsUrl!)).value('voxgate_tokens_minted_total'), 2)
      assert.equal((await scrape(metricsUrl)).value('voxgate_tokens_minted_total'), mineBefore)
    } finally {
      await other.close()
    }
  })

  test('off by default: no listener', async () => {
    const plain = await startTestServer()
    try {
      assert.equal(plain.server.metricsUrl, undefined)
      assert.equal((await call(plain.url, '/metrics')).status, 404)
    } finally {
      await plain.close()
    }
  })
})

describe('store errors', () => {
  test('a failing store call is counted by operation', async () => {
    const metrics = createMetrics()
    const failing = {
      version: async () => {
        throw new Error('down')
      },
      close: async () => undefined,
    } as unknown as Store
    const store = meteredStore(failing, metrics)
    await assert.rejects(store.version())
    await assert.rejects(store.version())
    await store.close()
    const s = new Scrape(await metrics.registry!.metrics())
    assert.equal(s.value('voxgate_store_errors_total', { operation: 'version' }), 2)
    assert.equal(s.value('voxgate_store_errors_total', { operation: 'close' }), 0)
  })
})
