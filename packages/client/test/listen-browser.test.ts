/**
 * listen() in real Chromium: the SDK bundled for the browser, on an HTTPS page whose origin serves the
 * token route (tokens for tts + stt). Flite speaks through the TTS API into Float32Array frames that
 * listen() streams back; and microphone() on Chromium's fake device (a Flite WAV) through the
 * ScriptProcessor fallback and the Blob-URL AudioWorklet.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import { mint } from '../../server/test/helpers/http.ts'
import { launchChromium, requireChromium } from '../../server/test/helpers/chromium.ts'
import { needed } from '../../server/test/helpers/services.ts'
import { startTestServer, testTls, type TestServer } from '../../server/test/helpers/server.ts'
import { concatPcm, FLITE_VOICES, silence, speak, wav, wer } from '../../server/test/stt/helpers.ts'

await needed(requireChromium)
const SENTENCE = 'The quick brown fox jumps over the lazy dog.'
let voxgate: TestServer
let page: Server
let pageUrl: string
let browser: Browser
let dir: string

before(async () => {
  voxgate = await startTestServer({ speech: 'real' })
  dir = mkdtempSync(path.join(tmpdir(), 'voxgate-listen-'))
  const mic = path.join(dir, 'mic.wav')
  const pcm = await speak(voxgate.server.ctx.speech, FLITE_VOICES.get('slt')!, SENTENCE, 48000)
  writeFileSync(mic, wav(concatPcm([silence(1, 48000), pcm, silence(1.5, 48000)]), 48000))
  const sdk =
    (
      await build({
        entryPoints: [path.resolve(import.meta.dirname, '../src/index.ts')],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        write: false,
        logLevel: 'silent',
      })
    ).outputFiles[0]?.text ?? ''
  const tls = testTls()
  page = createServer({ cert: readFileSync(tls.tlsCertFile), key: readFileSync(tls.tlsKeyFile) }, (req, res) => {
    if (req.url === '/')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>listen</title>')
    if (req.url === '/sdk.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk)
    if (req.url === '/token' && req.method === 'POST') {
      req.resume()
      return void mint(voxgate.url, voxgate.apiKey, {
        grants: { tts: true, stt: true, voices: true },
        expires_in: 60,
      }).then(
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
  browser = await launchChromium([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${mic}`,
  ])
})

after(async () => {
  await browser?.close()
  await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)))
  await voxgate?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('in Chromium: listen() on Float32Array frames from the TTS API, and on the microphone (ScriptProcessor and AudioWorklet)', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, permissions: ['microphone'] })
  const tab = await context.newPage()
  await tab.addInitScript({ content: 'globalThis.__name = (f) => f' })
  await tab.goto(pageUrl)
  const result = await tab.evaluate(
    async ({ baseUrl, voice, sentence }) => {
      const sdk = (await import('/sdk.js' as string)) as typeof import('../src/index.ts')
      const tokens = new sdk.TokenSource({ endpoint: '/token' })
      const client = new sdk.VoxgateClient({ baseUrl, tokens })
      const frames: Float32Array[] = []
      for await (const c of client.speak(
        {
          model_id: 'sonic-3',
          voice,
          transcript: sentence,
          output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 16000 },
        },
        { transport: 'sse' },
      )) {
        frames.push(new Float32Array(c.audio.slice().buffer))
      }
      frames.push(new Float32Array(8000))
      async function* source() {
        yield* frames
      }
      const fromFrames = await client.listen({ sampleRate: 16000, frames: source() }).done
      const mics: { processor: string; sampleRate: number; final: string }[] = []
      for (const workletUrl of [false, undefined] as const) {
        const mic = await sdk.microphone(workletUrl === false ? { workletUrl } : {})
        const session = client.listen(mic)
        const final = await new Promise<string>((resolve) => session.on('final', (e) => resolve(e.text)))
        await session.close()
        mics.push({ processor: mic.processor, sampleRate: mic.sampleRate, final })
      }
      client.close()
      tokens.close()
      return { fromFrames, mics }
    },
    { baseUrl: voxgate.url, voice: FLITE_VOICES.get('slt')!, sentence: SENTENCE },
  )
  assert.ok(wer(SENTENCE, result.fromFrames).errors <= 2, result.fromFrames)
  assert.deepEqual(
    result.mics.map((m) => m.processor),
    ['script-processor', 'audio-worklet'],
  )
  for (const m of result.mics) assert.ok(wer(SENTENCE, m.final).errors / 9 <= 0.3, `${m.processor} heard "${m.final}"`)
  await context.close()
})
