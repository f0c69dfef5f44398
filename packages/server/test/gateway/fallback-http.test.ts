/**
 * `--fallback local` on /tts/bytes and /tts/sse (issue 25, item 1): each upstream failure (500, 503,
 * 429, 401, 403, unreachable, timeout, an open circuit) is answered by the offline engines with the
 * mapped voice, labelled `X-Voxgate-Fallback: local` (and `"fallback": "local"` on every SSE event),
 * byte for byte what a local voxgate says for the same request; the client's own 400/404/422 pass
 * through untouched. OpenAI's /v1/audio/speech falls back the same way, in the format it asked for.
 * The ledger counts the fallback's characters apart, metrics count it by reason.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { bearer, call, mint } from '../helpers/http.ts'
import { answerError, FakeHttpUpstream, type FakeHandler } from '../helpers/fake-http-upstream.ts'
import { rawRequest, sseEvents } from '../helpers/raw-request.ts'
import { scrape } from '../helpers/prometheus.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { startFallbackGateway } from '../helpers/fallback-gateway.ts'
import { createVoiceCatalogue } from '../../src/tts/voices.ts'

const UPSTREAM_KEY = 'sk_car_upstream-secret-0123456789abcdef'
const FORMAT = { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 }
const catalogue = createVoiceCatalogue()
/** The map sends the upstream's voice to the catalogue's second voice (not the default one). */
const MAPPED = catalogue.list({ limit: 2 }).data[1]!.id
const FIRST_ENGLISH = catalogue.list({ language: 'en', limit: 1 }).data[0]!.id
const FIRST_GERMAN = catalogue.list({ language: 'de', limit: 1 }).data[0]!.id
const body = (voice = 'upstream-voice', extra: Record<string, unknown> = {}) => ({
  model_id: 'sonic-3',
  transcript: 'Hello from the fallback.',
  voice: { mode: 'id', id: voice },
  output_format: FORMAT,
  ...extra,
})
const UPSTREAM_AUDIO = Buffer.alloc(3200, 7)

const unreachable: FakeHandler = (req) => req.socket.destroy()
const stall: FakeHandler = () => undefined

let fake: FakeHttpUpstream
let gw: TestServer
let local: TestServer
let token: string
let localToken: string

before(async () => {
  fake = await FakeHttpUpstream.start()
  gw = await startFallbackGateway({
    upstreamUrl: fake.url,
    upstreamApiKey: UPSTREAM_KEY,
    mappedVoice: MAPPED,
    metrics: true,
    metricsPort: 0,
  })
  local = await startTestServer()
  token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600, sub: 'fb-user' })
  localToken = await mint(local.url, local.apiKey, { grants: { tts: true }, expires_in: 600 })
  fake.reset()
})
afterEach(async () => {
  await fake.until(() => fake.open === 0)
  fake.reset()
})
after(async () => {
  await gw.close()
  await local.close()
  await fake.close()
})

async function post(server: TestServer, credential: string, route: string, payload: unknown) {
  return rawRequest(server.url, route, {
    headers: { 'content-type': 'application/json', ...bearer(credential) },
    body: JSON.stringify(payload),
  })
}

/** What a local voxgate says for `payload` with the given local voice. */
async function localBytes(voice: string, extra: Record<string, unknown> = {}) {
  const res = await post(local, localToken, '/tts/bytes', body(voice, extra))
  assert.equal(res.status, 200)
  return res.body
}

describe('/tts/bytes', () => {
  const triggers: [string, FakeHandler, string][] = [
    ['a 500', answerError(500, 'internal', 'boom'), 'server_error'],
    ['a 503', answerError(503, 'busy', 'busy'), 'server_error'],
    ['a 429', answerError(429, 'rate_limited', 'slow down'), 'rate_limited'],
    ['a 401 to the gateway key', answerError(401, 'unauthorized', 'bad key'), 'unauthorized'],
    ['a 403 to the gateway key', answerError(403, 'forbidden', 'no'), 'unauthorized'],
    ['an unreachable upstream', unreachable, 'unreachable'],
    ['an upstream that never answers (timeout)', stall, 'timeout'],
  ]
  for (const [what, handler, reason] of triggers) {
    test(`${what}: spoken locally with the mapped voice, labelled, counted by reason`, async () => {
      const before = (await scrape(gw.server.metricsUrl!)).value('voxgate_upstream_fallbacks_total', { reason })
      fake.handler = handler
      const res = await post(gw, token, '/tts/bytes', body())
      assert.equal(res.status, 200)
      assert.equal(res.headers['x-voxgate-fallback'], 'local')
      assert.deepEqual(res.body, await localBytes(MAPPED))
      assert.notDeepEqual(res.body, await localBytes(FIRST_ENGLISH), 'the map chose the voice, not the default')
      assert.equal(fake.requests.length, 1, 'the upstream was tried once')
      const after = (await scrape(gw.server.metricsUrl!)).value('voxgate_upstream_fallbacks_total', { reason })
      assert.equal(after, before + 1)
    })
  }

  for (const status of [400, 404, 422]) {
    test(`the client's own ${status} passes through: no fallback`, async () => {
      fake.handler = answerError(status, 'bad_request', 'your request')
      const res = await post(gw, token, '/tts/bytes', body())
      assert.equal(res.status, status)
      assert.equal(res.json.error_code, 'bad_request')
      assert.equal(res.headers['x-voxgate-fallback'], undefined)
    })
  }

  test('an upstream that answers is relayed as ever, unlabelled', async () => {
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.end(UPSTREAM_AUDIO)
    }
    const res = await post(gw, token, '/tts/bytes', body())
    assert.equal(res.status, 200)
    assert.equal(res.headers['x-voxgate-fallback'], undefined)
    assert.deepEqual(res.body, UPSTREAM_AUDIO)
  })

  test("an unmapped voice: the first local voice of the request's language, else the first English one", async () => {
    fake.handler = answerError(500, 'internal', 'boom')
    const german = await post(gw, token, '/tts/bytes', body('unmapped', { language: 'de' }))
    assert.equal(german.status, 200)
    assert.deepEqual(german.body, await localBytes(FIRST_GERMAN))
    const unknownLanguage = await post(gw, token, '/tts/bytes', body('unmapped', { language: 'xx' }))
    assert.deepEqual(unknownLanguage.body, await localBytes(FIRST_ENGLISH))
    const none = await post(gw, token, '/tts/bytes', body('unmapped'))
    assert.deepEqual(none.body, await localBytes(FIRST_ENGLISH))
  })

  test('a format the local engines cannot make keeps the upstream failure', async () => {
    fake.handler = answerError(500, 'internal', 'boom')
    const res = await post(gw, token, '/tts/bytes', body('upstream-voice', { output_format: { container: 'ogg' } }))
    assert.equal(res.status, 502)
    assert.equal(res.json.error_code, 'upstream_error')
  })

  test('the ledger counts the fallback characters apart, as part of the characters', async () => {
    const usage = async () =>
      (await call(gw.url, '/usage?sub=fb-user&group_by=sub', { headers: bearer(gw.apiKey) })).json.totals
    const before = await usage()
    fake.handler = answerError(500, 'internal', 'boom')
    assert.equal((await post(gw, token, '/tts/bytes', body())).status, 200)
    const chars = 'Hello from the fallback.'.length
    let now = await usage()
    for (let i = 0; i < 50 && now.streams === before.streams; i++) now = await usage()
    assert.equal(now.characters - before.characters, chars)
    assert.equal(now.characters_fallback - before.characters_fallback, chars)
    assert.equal(now.streams - before.streams, 1, 'one stream: the relay handed over is none')
  })
})

describe('/tts/sse', () => {
  test('every event of a fallback says so, and the header too; the audio is the local voice', async () => {
    fake.handler = answerError(503, 'busy', 'busy')
    const sseBody = body('upstream-voice', { context_id: 'ctx-1' })
    const res = await post(gw, token, '/tts/sse', sseBody)
    assert.equal(res.status, 200)
    assert.equal(res.headers['x-voxgate-fallback'], 'local')
    const events = sseEvents(res.body)
    assert.ok(events.length >= 2)
    for (const e of events) assert.equal(e.fallback, 'local')
    assert.equal(events.at(-1).type, 'done')
    const localEvents = sseEvents(
      (await post(local, localToken, '/tts/sse', body(MAPPED, { context_id: 'ctx-1' }))).body,
    )
    const audio = (list: any[]) => list.filter((e) => e.type === 'chunk').map((e) => e.data)
    assert.deepEqual(audio(events), audio(localEvents))
  })

  test("the client's own 422 passes through", async () => {
    fake.handler = answerError(422, 'unprocessable', 'no')
    const res = await post(gw, token, '/tts/sse', body())
    assert.equal(res.status, 422)
    assert.equal(res.headers['x-voxgate-fallback'], undefined)
  })
})

describe("OpenAI's /v1/audio/speech", () => {
  const speech = (voice: string, response_format: string) => ({
    model: 'tts-1',
    input: 'Hello from the fallback.',
    voice,
    response_format,
  })
  for (const format of ['pcm', 'wav'])
    test(`${format}: spoken locally with the mapped voice, in the format asked for, labelled`, async () => {
      fake.handler = answerError(500, 'internal', 'boom')
      const res = await post(gw, token, '/v1/audio/speech', speech('upstream-voice', format))
      assert.equal(res.status, 200)
      assert.equal(res.headers['x-voxgate-fallback'], 'local')
      assert.equal(fake.requests.length, 1, 'the upstream was tried once')
      const locally = await post(local, localToken, '/v1/audio/speech', speech(MAPPED, format))
      assert.equal(locally.status, 200)
      assert.equal(res.headers['content-type'], locally.headers['content-type'])
      assert.deepEqual(res.body, locally.body)
    })

  test("the client's own 400 passes through in OpenAI's error shape", async () => {
    fake.handler = answerError(400, 'bad_request', 'your request')
    const res = await post(gw, token, '/v1/audio/speech', speech('upstream-voice', 'pcm'))
    assert.equal(res.status, 400)
    assert.equal(res.json.error.code, 'bad_request')
    assert.equal(res.headers['x-voxgate-fallback'], undefined)
  })
})

describe('an open circuit', () => {
  test('falls back without calling the upstream', async () => {
    const gw1 = await startTestServer({
      upstreamUrl: fake.url,
      upstreamApiKey: UPSTREAM_KEY,
      upstreamFailureThreshold: 1,
      fallback: 'local',
    })
    try {
      fake.reset()
      const t = await mint(gw1.url, gw1.apiKey, { grants: { tts: true }, expires_in: 600 })
      fake.handler = answerError(500, 'internal', 'boom')
      const first = await post(gw1, t, '/tts/bytes', body())
      assert.equal(first.headers['x-voxgate-fallback'], 'local')
      assert.equal(fake.requests.length, 1)
      const second = await post(gw1, t, '/tts/bytes', body())
      assert.equal(second.status, 200)
      assert.equal(second.headers['x-voxgate-fallback'], 'local')
      assert.equal(fake.requests.length, 1, 'the open circuit kept the upstream out of it')
      assert.deepEqual(second.body, first.body)
    } finally {
      await gw1.close()
    }
  })
})

describe('start', () => {
  test('a voice map naming a voice the local catalogue lacks stops the start, naming the entry', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-fallback-'))
    const mapFile = path.join(dir, 'voices.json')
    writeFileSync(mapFile, JSON.stringify({ 'upstream-voice': 'no-such-voice' }))
    await assert.rejects(
      startTestServer({
        upstreamUrl: fake.url,
        upstreamApiKey: UPSTREAM_KEY,
        fallback: 'local',
        fallbackVoiceMapFile: mapFile,
      }),
      /--fallback-voice-map .*"upstream-voice" maps to "no-such-voice", which is not a local voice id/,
    )
  })

  test('--fallback without --upstream is refused', async () => {
    await assert.rejects(startTestServer({ fallback: 'local' }), /--fallback applies to gateway mode/)
  })
})
