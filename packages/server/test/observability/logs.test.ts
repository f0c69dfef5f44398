import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { LogCapture } from '../helpers/log-capture.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { createLogger } from '../../src/logger.ts'
import { main, MAIN_HELP } from '../../src/cli/main.ts'
import { SERVE_HELP } from '../../src/cli/serve.ts'

describe('pretty logs', () => {
  let t: TestServer
  let pretty: LogCapture
  before(async () => {
    pretty = new LogCapture()
    t = await startTestServer({}, { logger: createLogger('info', pretty, 'pretty') })
  })
  after(() => t.close())

  test('one readable line per event, not JSON', async () => {
    const before = pretty.lines.length
    assert.equal((await call(t.url, '/healthz')).status, 200)
    const lines = pretty.lines.slice(before)
    assert.equal(lines.length, 1)
    const [line] = lines as [string]
    assert.throws(() => JSON.parse(line))
    assert.match(line, /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: request \{/)
    assert.match(line, /"path":"\/healthz"/)
    assert.match(line, /"status":200/)
  })

  test('tokens, keys and cookies never appear, from real traffic or from a careless log call', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true, voices: true }, sub: 'someone' })
    const [voice] = (await voiceIds(t.url, token, 1)) as [string]
    await call(t.url, '/tts/bytes', {
      headers: { ...bearer(token), cookie: `vg=${token}` },
      body: ttsBody(voice, 'Hello.'),
    })
    await call(t.url, '/voices', { headers: { 'x-api-key': t.apiKey } })
    await call(t.url, `/voices?api_key=${t.apiKey}`)
    await call(t.url, '/voices', { headers: bearer(`${t.apiKey}x`) })
    const log = t.server.ctx.logger
    log.info(
      {
        token,
        key: t.apiKey,
        headers: { authorization: `Bearer ${token}`, cookie: `vg=${token}`, 'x-api-key': t.apiKey },
      },
      'careless',
    )
    log.info(
      { req: { headers: { authorization: `Bearer ${t.apiKey}` } }, access_token: token, api_key: t.apiKey },
      'careless 2',
    )
    const text = pretty.text()
    assert.match(text, /careless 2/)
    assert.match(text, /\[redacted\]/)
    for (const secret of [t.apiKey, token, token.split('.')[2]!])
      assert.ok(!text.includes(secret), `pretty log holds ${secret.slice(0, 10)}…`)
  })
})

describe('log format', () => {
  test('json is one JSON object a line; auto is JSON when the destination is not a terminal', () => {
    for (const format of ['json', 'auto'] as const) {
      const out = new LogCapture()
      createLogger('info', out, format).info({ token: 'secret-token-value' }, 'hello')
      const entry = JSON.parse(out.lines[0]!)
      assert.equal(entry.msg, 'hello')
      assert.equal(entry.token, '[redacted]')
    }
  })

  test('--log-format is validated', async () => {
    const err: string[] = []
    const io = { out: () => undefined, err: (l: string) => void err.push(l), env: {} }
    assert.equal(await main(['serve', '--log-format', 'fancy', '--port', '0'], io), 2)
    assert.match(err.join('\n'), /logFormat/)
  })

  test('serve --help lists the new flags', () => {
    for (const flag of ['--log-format FORMAT', '--metrics ', '--metrics-host H', '--metrics-port N'])
      assert.ok(SERVE_HELP.includes(flag), flag)
    assert.match(SERVE_HELP, /VOXGATE_METRICS_PORT/)
  })
})

describe('voxgate --version', () => {
  test('prints the server package version', async () => {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } })
    for (const arg of ['--version', '-v']) {
      const out: string[] = []
      assert.equal(await main([arg], { out: (l) => void out.push(l), err: () => undefined, env: {} }), 0)
      assert.deepEqual(out, [pkg.version])
    }
    assert.match(MAIN_HELP, /--version/)
  })
})
