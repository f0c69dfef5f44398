/**
 * Gateway mode's start: the command line (URL, the key from the environment or a file, never a
 * flag), the start check of the upstream key, an upstream that cannot be reached yet, and the
 * per-key rate limit in front of the relays.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { main } from '../../src/cli/main.ts'
import { SERVE_OPTIONS } from '../../src/cli/option-table.ts'
import { resolveOptions } from '../../src/cli/options.ts'
import { SERVE_HELP } from '../../src/cli/serve.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, testTls, type TestServer } from '../helpers/server.ts'
import { answerError, FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'

const UPSTREAM_KEY = 'sk_car_start-check-secret-9876543210'
const BODY = {
  model_id: 'sonic-3',
  transcript: 'Hi.',
  voice: 'upstream-voice',
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
}

let fake: FakeHttpUpstream
let dir: string

before(async () => {
  fake = await FakeHttpUpstream.start()
  dir = mkdtempSync(path.join(tmpdir(), 'voxgate-gateway-start-'))
})
after(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs `voxgate serve` in-process; resolves with its exit code and what it printed. */
async function serve(args: string[], env: Record<string, string>) {
  const out: string[] = []
  const { tlsCertFile, tlsKeyFile } = testTls()
  const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), env }
  const code = await main(
    [
      'serve',
      '--port',
      '0',
      '--data',
      path.join(dir, 'data'),
      '--tls-cert',
      tlsCertFile,
      '--tls-key',
      tlsKeyFile,
      ...args,
    ],
    io,
  )
  return { code, text: out.join('\n') }
}

describe('voxgate serve --upstream', () => {
  test('an upstream refusing the key (401) stops the start: exit 1, a clear message, never the key', async () => {
    fake.handler = answerError(401, 'unauthorized', `bad key ${UPSTREAM_KEY}`)
    const { code, text } = await serve(['--upstream', fake.url], { VOXGATE_UPSTREAM_API_KEY: UPSTREAM_KEY })
    assert.equal(code, 1)
    assert.match(text, /the upstream refused voxgate's upstream API key/)
    assert.ok(!text.includes(UPSTREAM_KEY))
    assert.equal(fake.requests.length, 1)
    assert.equal(fake.requests[0]!.headers['x-api-key'], UPSTREAM_KEY)
    await fake.until(() => fake.open === 0)
    fake.reset()
  })

  test('a 403 stops it too, with the key read from --upstream-api-key-file', async () => {
    const file = path.join(dir, 'key')
    writeFileSync(file, `${UPSTREAM_KEY}\n`)
    fake.handler = answerError(403, 'forbidden', 'no')
    const { code, text } = await serve(['--upstream', fake.url, '--upstream-api-key-file', file], {})
    assert.equal(code, 1)
    assert.ok(!text.includes(UPSTREAM_KEY))
    // The file's trailing newline is not part of the key.
    assert.equal(fake.requests[0]!.headers['x-api-key'], UPSTREAM_KEY)
    fake.reset()
  })

  test('the key from both the environment and a file is a usage error (exit 2), before any request', async () => {
    const file = path.join(dir, 'key2')
    writeFileSync(file, UPSTREAM_KEY)
    const { code, text } = await serve(['--upstream', fake.url, '--upstream-api-key-file', file], {
      VOXGATE_UPSTREAM_API_KEY: UPSTREAM_KEY,
    })
    assert.equal(code, 2)
    assert.match(text, /give VOXGATE_UPSTREAM_API_KEY or --upstream-api-key-file, not both/)
    assert.ok(!text.includes(UPSTREAM_KEY))
    assert.equal(fake.requests.length, 0)
  })

  test('the key is no flag; the URL, the file and the timeout are, each with its environment variable', () => {
    const { config } = resolveOptions(
      SERVE_OPTIONS,
      ['--upstream', 'https://api.cartesia.ai', '--upstream-timeout-seconds', '3'],
      { VOXGATE_UPSTREAM_API_KEY: 'k' },
    )
    assert.deepEqual(
      [config.upstreamUrl, config.upstreamApiKey, config.upstreamTimeoutMs],
      ['https://api.cartesia.ai', 'k', 3000],
    )
    assert.deepEqual(
      resolveOptions(SERVE_OPTIONS, [], { VOXGATE_UPSTREAM: 'https://u.example' }).config.upstreamUrl,
      'https://u.example',
    )
    assert.throws(() => resolveOptions(SERVE_OPTIONS, ['--upstream-api-key', 'k'], {}), /Unknown option/)
    assert.match(SERVE_HELP, /--upstream URL/)
    assert.match(SERVE_HELP, /--upstream-api-key-file FILE/)
    assert.match(SERVE_HELP, /VOXGATE_UPSTREAM_API_KEY[\s\S]*\[environment only\]/)
  })

  test('a plain http:// upstream that is not loopback is refused at start, naming the rule', async () => {
    const { code, text } = await serve(['--upstream', 'http://api.example.com'], {
      VOXGATE_UPSTREAM_API_KEY: UPSTREAM_KEY,
    })
    assert.equal(code, 2)
    assert.match(text, /plain http:\/\/ is allowed only to a loopback address/)
  })
})

describe('an upstream not reachable at start', () => {
  let gw: TestServer
  before(async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as import('node:net').AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    gw = await startTestServer({ upstreamUrl: `http://127.0.0.1:${port}`, upstreamApiKey: UPSTREAM_KEY })
  })
  after(() => gw.close())

  test('the server starts with a warning, and relays answer 502 upstream_unavailable', async () => {
    const warning = gw.logs.lines.map((l) => JSON.parse(l)).find((l) => /^upstream check failed at start/.test(l.msg))
    assert.deepEqual([warning?.level, warning?.error_code], [40, 'upstream_unavailable'])
    const token = await mint(gw.url, gw.apiKey, { grants: { tts: true, voices: true }, expires_in: 60 })
    for (const path of ['/tts/bytes', '/tts/sse']) {
      const res = await call(gw.url, path, { headers: bearer(token), body: BODY })
      assert.equal(res.status, 502, path)
      assert.equal(res.json.error_code, 'upstream_unavailable')
    }
    const voices = await call(gw.url, '/voices', { headers: bearer(token) })
    assert.equal(voices.status, 502)
    assert.equal(voices.json.error_code, 'upstream_unavailable')
    assert.ok(!gw.logs.text().includes(UPSTREAM_KEY))
  })
})

describe('the per-key rate limit in front of the relays', () => {
  let gw: TestServer
  before(async () => {
    gw = await startTestServer({ upstreamUrl: fake.url, upstreamApiKey: UPSTREAM_KEY, ttsStreamsPerMinute: 1 })
    fake.reset()
  })
  after(() => gw.close())

  test('past --tts-streams-per-minute → 429 rate_limited, never relayed', async () => {
    fake.handler = (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(320))
    const token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60 })
    assert.equal((await call(gw.url, '/tts/bytes', { headers: bearer(token), body: BODY })).status, 200)
    const refused = await call(gw.url, '/tts/bytes', { headers: bearer(token), body: BODY })
    assert.equal(refused.status, 429)
    assert.equal(refused.json.error_code, 'rate_limited')
    assert.equal(fake.requests.length, 1)
  })
})
