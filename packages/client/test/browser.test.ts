/**
 * The SDK in real Chromium: bundled with esbuild for the browser, loaded from an HTTPS test page whose
 * origin also serves the app-backend token route (memory mode, 3 s tokens), speaking over all three
 * transports into the Web Audio player while tokens are replaced underneath.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import { mint } from '../../server/test/helpers/http.ts'
import { launchChromium, requireChromium } from '../../server/test/helpers/chromium.ts'
import { needed } from '../../server/test/helpers/services.ts'
import { startTestServer, testTls, type TestServer } from '../../server/test/helpers/server.ts'

await needed(requireChromium)
let voxgate: TestServer
let page: Server
let pageUrl: string
let browser: Browser

async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: [path.resolve(import.meta.dirname, '../src/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return out.outputFiles[0]?.text ?? ''
}

before(async () => {
  // Tokens live 3 s and sockets end with them, so every transport crosses several refreshes. One
  // second of clock tolerance keeps a request sent just before its token's expiry from failing on a
  // loaded machine (where it may reach the server a few hundred ms later); the refresh is still needed.
  voxgate = await startTestServer({ clockToleranceSeconds: 1, wsSessionGraceMs: 0 })
  const sdk = await bundle()
  const tls = testTls()
  page = createServer({ cert: readFileSync(tls.tlsCertFile), key: readFileSync(tls.tlsKeyFile) }, (req, res) => {
    if (req.url === '/')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>voxgate sdk</title>')
    if (req.url === '/sdk.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk)
    if (req.url === '/token' && req.method === 'POST') {
      req.resume()
      return void mint(voxgate.url, voxgate.apiKey, { grants: { tts: true, voices: true }, expires_in: 3 }).then(
        (token) => {
          const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
            iat: number
            exp: number
          }
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ token, expires_at: claims.exp, issued_at: claims.iat }))
        },
        () => res.writeHead(502).end(),
      )
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
  pageUrl = `https://127.0.0.1:${(page.address() as AddressInfo).port}/`
  browser = await launchChromium()
})

after(async () => {
  await browser?.close()
  await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)))
  await voxgate?.close()
})

test('in Chromium: all three transports play through the Web Audio player across token refreshes', async (t) => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true })
  const tab = await context.newPage()
  // tsx compiles this file with esbuild's keepNames, which wraps functions in `__name(...)`; the
  // function below is serialized into the page, so the page needs that helper too.
  await tab.addInitScript({ content: 'globalThis.__name = (f) => f' })
  await tab.goto(pageUrl)
  const result = await tab.evaluate(async (baseUrl) => {
    const sdk = (await import('/sdk.js' as string)) as typeof import('../src/index.ts')
    const tokens = new sdk.TokenSource({ endpoint: '/token' })
    let tokenCount = 0
    tokens.onToken(() => tokenCount++)
    const client = new sdk.VoxgateClient({ baseUrl, tokens })
    let voice = ''
    for await (const v of client.voices.list({ limit: 1 })) {
      voice = v.id
      break
    }
    const out: Record<string, { chunks: number; samples: number; rounds: number; tokens: number }> = {}
    for (const transport of ['bytes', 'sse', 'websocket'] as const) {
      const player = new sdk.AudioPlayer()
      const start = tokenCount
      let rounds = 0
      while (tokenCount < start + 3) {
        const encoding = rounds % 2 ? 'pcm_f32le' : 'pcm_s16le'
        await player.play(
          client.speak(
            {
              model_id: 'sonic-3',
              voice,
              transcript: `Round ${rounds} over ${transport}.`,
              output_format: { container: 'raw', encoding, sample_rate: 24000 },
            },
            { transport },
          ),
        )
        rounds++
      }
      out[transport] = {
        chunks: player.chunksScheduled,
        samples: player.samplesScheduled,
        rounds,
        tokens: tokenCount - start,
      }
      player.stop()
    }
    // A streaming-input context over the socket that outlives several tokens.
    const player = new sdk.AudioPlayer()
    const ctx = client.context({
      model_id: 'sonic-3',
      voice,
      output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24000 },
      max_buffer_delay_ms: 0,
    })
    const playing = player.play(ctx)
    const start = tokenCount
    for (let i = 0; tokenCount < start + 3; i++) {
      ctx.push(`Piece ${i} of a reply. `)
      await new Promise<void>((resolve) => {
        const off = tokens.onToken(() => {
          off()
          resolve()
        })
      })
    }
    ctx.end()
    await playing
    out.context = {
      chunks: player.chunksScheduled,
      samples: player.samplesScheduled,
      rounds: 0,
      tokens: tokenCount - start,
    }
    // Safety rails as the browser sees them.
    const keyRefused = await new sdk.TokenSource({
      fetchToken: async () => ({ token: 'sk_vx_notreal', expires_at: 4_000_000_000 }),
    })
      .ready()
      .then(
        () => 'accepted',
        (err: { code: string }) => err.code,
      )
    client.close()
    tokens.close()
    return { out, keyRefused, storage: localStorage.length + sessionStorage.length, cookie: document.cookie }
  }, voxgate.url)
  t.diagnostic(JSON.stringify(result.out))
  for (const [name, r] of Object.entries(result.out)) {
    assert.ok(r.chunks > 0 && r.samples > 0, `${name}: audio reached the player (${JSON.stringify(r)})`)
    assert.ok(r.tokens >= 3, `${name}: spoke across token refreshes`)
  }
  assert.equal(result.keyRefused, 'ERR_API_KEY_IN_BROWSER')
  assert.equal(result.storage, 0)
  assert.equal(result.cookie, '')
  await context.close()
})
