/**
 * Gateway mode's HTTP relays of speech against a recording fake upstream: what is forwarded and what
 * is not, every upstream failure's answer, refusals that never reach the upstream, revocation
 * and usage; no socket is left open (fake-gateway.ts checks after every test). Flow control is in
 * http-flow-control.test.ts, uploads and voices in http-uploads-voices.test.ts.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { answerError } from '../helpers/fake-http-upstream.ts'
import { rawRequest, sseEvents } from '../helpers/raw-request.ts'
import {
  audio,
  BODY,
  fake,
  gw,
  ORIGIN,
  readAround,
  startCheck,
  tts,
  UPSTREAM_KEY,
  useFakeGateway,
  VERSION,
} from './fake-gateway.ts'

useFakeGateway()

describe('gateway HTTP relay: what reaches the upstream', () => {
  test('the start check is one GET /voices with the upstream key', () => {
    assert.deepEqual(
      startCheck.map((r) => [r.method, r.url.split('?')[0], r.headers['x-api-key']]),
      [['GET', '/voices', UPSTREAM_KEY]],
    )
  })

  test('the upstream key, Cartesia-Version, Content-Type and Accept go; the client credential, cookies, Origin and hop-by-hop headers do not', async () => {
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.end(audio)
    }
    const res = await tts('/tts/bytes?cartesia_version=2025-04-16', {
      'cartesia-version': VERSION,
      accept: 'application/octet-stream',
      cookie: 'session=abc; voxgate_token=xyz',
      origin: ORIGIN,
      connection: 'keep-alive, x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'proxy-authorization': 'Basic eDp5',
      'x-forwarded-for': '10.0.0.1',
    })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, audio)
    assert.equal(fake.requests.length, 1)
    const sent = fake.requests[0]!
    assert.equal(sent.url, '/tts/bytes?cartesia_version=2025-04-16')
    assert.equal(sent.headers['x-api-key'], UPSTREAM_KEY)
    assert.equal(sent.headers['cartesia-version'], VERSION)
    assert.equal(sent.headers['content-type'], 'application/json')
    assert.equal(sent.headers.accept, 'application/octet-stream')
    for (const name of [
      'authorization',
      'cookie',
      'origin',
      'x-hop',
      'keep-alive',
      'te',
      'proxy-authorization',
      'x-forwarded-for',
    ]) {
      assert.ok(!sent.rawHeaderNames.includes(name), `${name} was forwarded`)
    }
    assert.deepEqual(JSON.parse(sent.body.toString()), BODY)
  })

  test('an API key as X-API-Key is not forwarded either; only the upstream key is', async () => {
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(audio)
    const res = await rawRequest(gw.url, '/tts/bytes', {
      headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey },
      body: JSON.stringify(BODY),
    })
    assert.equal(res.status, 200)
    assert.equal(fake.requests[0]!.headers['x-api-key'], UPSTREAM_KEY)
    assert.ok(!fake.requests[0]!.body.toString().includes(gw.apiKey))
  })
})

describe('gateway HTTP relay: upstream failures', () => {
  const cases: [string, number, string][] = [
    [' 500', 500, 'upstream_error'],
    [' 503', 503, 'upstream_error'],
    [' 401', 401, 'upstream_unauthorized'],
    [' 403', 403, 'upstream_unauthorized'],
  ]
  for (const [name, status, code] of cases) {
    test(`upstream${name} → ${code} (502), never a 401 to the client`, async () => {
      fake.handler = answerError(status, 'whatever', `bad key ${UPSTREAM_KEY}`)
      const res = await tts('/tts/bytes')
      assert.equal(res.status, 502)
      assert.equal(res.json.error_code, code)
      assert.equal(res.json.request_id, res.headers['x-request-id'])
      assert.equal(res.headers['www-authenticate'], undefined)
      // The operator sees it, by code, with the request's id.
      const logged = gw.logs.lines
        .map((l) => JSON.parse(l))
        .find((l) => l.msg === 'upstream failure' && l.reqId === res.headers['x-request-id'])
      assert.equal(logged?.error_code, code)
    })
  }

  for (const status of [400, 404, 422, 429]) {
    test(`upstream ${status} passes through with its code and a scrubbed message`, async () => {
      fake.handler = (req, res) => {
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 && { 'retry-after': '7' }) })
        res.end(
          JSON.stringify({
            error_code: `upstream_${status}`,
            title: 'Upstream says',
            message: `key ${UPSTREAM_KEY} refused for ${req.url}`,
            request_id: 'theirs',
          }),
        )
      }
      const res = await tts('/tts/sse', { accept: 'text/event-stream' })
      assert.equal(res.status, status)
      assert.deepEqual(res.json, {
        error_code: `upstream_${status}`,
        title: 'Upstream says',
        message: 'key [redacted] refused for /tts/sse',
        request_id: res.headers['x-request-id'],
      })
      assert.equal(res.headers['retry-after'], status === 429 ? '7' : undefined)
    })
  }

  test('a long upstream message is cut, and plain-text bodies pass as the message', async () => {
    fake.handler = (_req, res) =>
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found: ${'x'.repeat(5000)}`)
    const res = await tts('/tts/bytes')
    assert.equal(res.status, 404)
    assert.equal(res.json.error_code, 'not_found')
    assert.equal(res.json.message.length, 500)
    assert.ok(res.json.message.startsWith('Not found: xxx'))
  })

  test('no first byte within upstreamTimeoutMs → 504 upstream_timeout, and the upstream request is dropped', async () => {
    fake.handler = () => undefined
    const res = await tts('/tts/bytes')
    assert.equal(res.status, 504)
    assert.equal(res.json.error_code, 'upstream_timeout')
  })

  test('a bytes stream cut mid-way upstream is an aborted chunked body, not a clean end', async () => {
    fake.handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(audio, () => req.socket.destroy())
    }
    const res = await tts('/tts/bytes')
    assert.equal(res.status, 200)
    assert.equal(res.complete, false)
  })

  test('an SSE stream cut mid-way upstream ends with an error event, whole frames only', async () => {
    fake.handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const chunk = { type: 'chunk', data: audio.toString('base64'), done: false, status_code: 206, step_time: 1 }
      res.write(`event: chunk\ndata: ${JSON.stringify(chunk)}\n\nevent: chunk\ndata: {"type":"chu`, () =>
        req.socket.destroy(),
      )
    }
    const res = await tts('/tts/sse', { accept: 'text/event-stream' }, { ...BODY, context_id: 'c1' })
    assert.equal(res.status, 200)
    assert.equal(res.complete, true)
    const events = sseEvents(res.body)
    assert.deepEqual(
      events.map((e) => e.type),
      ['chunk', 'error'],
    )
    assert.equal(events[1].error_code, 'upstream_error')
    assert.equal(events[1].context_id, 'c1')
  })

  test('an SSE stream relays the upstream events and its done as sent', async () => {
    const frames = `event: chunk\ndata: ${JSON.stringify({ type: 'chunk', data: audio.toString('base64'), done: false, status_code: 206, step_time: 1 })}\n\nevent: done\ndata: {"type":"done","done":true,"status_code":206}\n\n`
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(frames)
    const res = await tts('/tts/sse', { accept: 'text/event-stream' })
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), frames)
  })
})

describe('gateway HTTP relay: refusals never reach the upstream', () => {
  const refusals: [string, unknown, number, string][] = [
    ['no tts grant', { grants: { voices: true } }, 403, 'insufficient_scope'],
    [
      'a voice outside limits.voices',
      { grants: { tts: true }, limits: { voices: ['another-voice'] } },
      403,
      'voice_not_allowed',
    ],
    [
      'a transcript past limits.characters',
      { grants: { tts: true }, limits: { characters: 5 } },
      429,
      'quota_exceeded',
    ],
    [
      'an origin outside limits.origins',
      { grants: { tts: true }, limits: { origins: ['https://other.example'] } },
      403,
      'origin_not_allowed',
    ],
  ]
  for (const [name, claims, status, code] of refusals) {
    for (const path of ['/tts/bytes', '/tts/sse']) {
      test(`${path}: ${name} → ${status} ${code}`, async () => {
        const refused = await mint(gw.url, gw.apiKey, { ...(claims as object), expires_in: 60 })
        const res = await tts(path, { ...bearer(refused), origin: ORIGIN })
        assert.equal(res.status, status)
        assert.equal(res.json.error_code, code)
        assert.equal(fake.requests.length, 0)
      })
    }
  }

  test('a second stream past limits.concurrent_streams → 429 concurrency_limited while the first is relayed', async () => {
    const one = await mint(gw.url, gw.apiKey, {
      grants: { tts: true },
      limits: { concurrent_streams: 1 },
      expires_in: 60,
    })
    let finish: (() => void) | undefined
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(audio)
      finish = () => res.end()
    }
    const first = tts('/tts/bytes', bearer(one))
    await fake.until(() => fake.requests.length === 1)
    const second = await tts('/tts/bytes', bearer(one))
    assert.equal(second.status, 429)
    assert.equal(second.json.error_code, 'concurrency_limited')
    assert.equal(fake.requests.length, 1)
    await fake.until(() => finish !== undefined)
    finish!()
    assert.equal((await first).status, 200)
  })

  test('refusals are counted in the usage ledger', async () => {
    const res = await call(gw.url, '/usage?group_by=key', { headers: bearer(gw.apiKey) })
    assert.equal(res.status, 200)
    assert.match(JSON.stringify(res.json), /voice_not_allowed/)
  })
})

describe('gateway HTTP relay: revocation and usage', () => {
  test('revoking the token cuts a relayed bytes stream and drops the upstream request', async () => {
    const revocable = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60 })
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(audio)
    }
    const pending = tts('/tts/bytes', bearer(revocable))
    await fake.until(() => fake.requests.length === 1)
    const revoke = await call(gw.url, '/access-token/revoke', {
      headers: bearer(gw.apiKey),
      body: { token: revocable },
    })
    assert.equal(revoke.status, 200)
    const res = await pending
    // Cut, queued audio included: a reset, either before the status line or mid-body.
    assert.equal(res.complete, false)
    assert.ok(res.status === 0 || res.status === 200)
    await fake.until(() => fake.open === 0)
  })

  test('revoking the token ends a relayed SSE stream with a token_revoked error event', async () => {
    const revocable = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60 })
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(
        `event: chunk\ndata: ${JSON.stringify({ type: 'chunk', data: audio.toString('base64'), done: false, status_code: 206, step_time: 1 })}\n\n`,
      )
    }
    const res = await fetch(`${gw.url}/tts/sse`, {
      method: 'POST',
      headers: { ...bearer(revocable), 'content-type': 'application/json' },
      body: JSON.stringify(BODY),
    })
    const text = await readAround(res, () =>
      call(gw.url, '/access-token/revoke', { headers: bearer(gw.apiKey), body: { token: revocable } }),
    )
    const events = sseEvents(Buffer.from(text))
    assert.deepEqual(
      events.map((e) => e.type),
      ['chunk', 'error'],
    )
    assert.equal(events[1].error_code, 'token_revoked')
  })

  test('the whole transcript is charged once the upstream accepted; nothing when it refused', async () => {
    const counted = await mint(gw.url, gw.apiKey, {
      grants: { tts: true },
      limits: { characters: 1000 },
      expires_in: 60,
    })
    fake.handler = answerError(500, 'boom', 'failed')
    assert.equal((await tts('/tts/bytes', bearer(counted))).status, 502)
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(audio)
    assert.equal((await tts('/tts/bytes', bearer(counted))).status, 200)
    const self = await call(gw.url, '/access-token/self', { headers: bearer(counted) })
    assert.equal(self.json.usage.characters, BODY.transcript.length)
  })

  test('tag-shaped text voxgate does not know is counted through a gateway (the upstream may read it aloud); known tags are free', async () => {
    const counted = await mint(gw.url, gw.apiKey, {
      grants: { tts: true },
      limits: { characters: 100 },
      expires_in: 60,
    })
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(audio)
    for (const transcript of [`<${'hello world '.repeat(10).trim()}>`, `<x y="${'p'.repeat(8000)}"/>`]) {
      const res = await tts('/tts/bytes', bearer(counted), { ...BODY, transcript })
      assert.deepEqual([res.status, res.json?.error_code], [429, 'quota_exceeded'])
    }
    assert.equal(fake.requests.length, 0)
    const known = 'Hi <break time="1s"/><speed ratio="1.2">there</speed> <spell>AB</spell>'
    assert.equal((await tts('/tts/bytes', bearer(counted), { ...BODY, transcript: known })).status, 200)
    const self = await call(gw.url, '/access-token/self', { headers: bearer(counted) })
    assert.equal(self.json.usage.characters, 'Hi there AB'.length)
  })
})
