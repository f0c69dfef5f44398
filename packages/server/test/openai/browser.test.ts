/**
 * The `openai` SDK in real Chromium, as a page would use it: bundled for the browser, a short-lived
 * voxgate token as its API key (`dangerouslyAllowBrowser`), `baseURL` at voxgate, on a page of
 * another origin. It speaks and transcribes with the CORS voxgate sends (the token's
 * `limits.origins` names the page's origin); a token naming another origin is refused.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import { mint } from '../helpers/http.ts'
import { launchChromium, requireChromium } from '../helpers/chromium.ts'
import { needed } from '../helpers/services.ts'
import { startTestServer, testTls, type TestServer } from '../helpers/server.ts'
import { wer } from '../stt/helpers.ts'

await needed(requireChromium)
const SENTENCE = 'The weather is nice today.'
let voxgate: TestServer
let page: Server
let pageOrigin: string
let browser: Browser

before(async () => {
  voxgate = await startTestServer({ speech: 'real' })
  const sdk =
    (
      await build({
        stdin: { contents: "export { default as OpenAI, toFile } from 'openai'", resolveDir: import.meta.dirname },
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
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>openai</title>')
    if (req.url === '/openai.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk)
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
  pageOrigin = `https://127.0.0.1:${(page.address() as AddressInfo).port}`
  browser = await launchChromium()
})

after(async () => {
  await browser?.close()
  await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)))
  await voxgate?.close()
})

interface PageResult {
  spoken?: { type: string | null; bytes: number; head: number[] }
  heard?: string
  refused?: { status: number; code: string }
}

/** Runs the page: speech as WAV through the SDK, then that WAV transcribed, all with `token`. */
async function runPage(token: string): Promise<PageResult> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true })
  try {
    const tab = await context.newPage()
    await tab.goto(`${pageOrigin}/`)
    return await tab.evaluate(
      async ({ token, baseURL, sentence }) => {
        const { OpenAI, toFile } = (await import('/openai.js' as string)) as typeof import('openai')
        const openai = new OpenAI({ apiKey: token, baseURL, dangerouslyAllowBrowser: true, maxRetries: 0 })
        try {
          const speech = await openai.audio.speech.create({
            model: 'tts-1',
            voice: 'alloy',
            input: sentence,
            response_format: 'wav',
          })
          const wav = new Uint8Array(await speech.arrayBuffer())
          const heard = (await openai.audio.transcriptions.create({
            file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
            model: 'whisper-1',
            response_format: 'text',
          })) as unknown as string
          return {
            spoken: {
              type: speech.headers.get('content-type'),
              bytes: wav.length,
              head: Array.from(wav.subarray(0, 4)),
            },
            heard,
          }
        } catch (err) {
          const e = err as { status: number; code: string }
          return { refused: { status: e.status, code: e.code } }
        }
      },
      { token, baseURL: `${voxgate.url}/v1`, sentence: SENTENCE },
    )
  } finally {
    await context.close()
  }
}

test('in Chromium: the openai SDK speaks and transcribes with a token whose limits.origins names the page', async () => {
  const token = await mint(voxgate.url, voxgate.apiKey, {
    grants: { tts: true, stt: true },
    limits: { origins: [pageOrigin] },
    expires_in: 120,
  })
  const r = await runPage(token)
  assert.equal(r.refused, undefined, JSON.stringify(r.refused))
  assert.equal(r.spoken?.type, 'audio/wav')
  assert.deepEqual(r.spoken?.head, [...Buffer.from('RIFF')])
  assert.ok((r.spoken?.bytes ?? 0) > 24_000, `${r.spoken?.bytes} bytes`)
  const w = wer(SENTENCE, r.heard ?? '')
  assert.ok(w.errors / w.words <= 0.15, `"${r.heard}" (${w.errors}/${w.words} errors)`)
})

test('in Chromium: a token whose limits.origins names another origin is refused, 403 origin_not_allowed', async () => {
  const token = await mint(voxgate.url, voxgate.apiKey, {
    grants: { tts: true, stt: true },
    limits: { origins: ['https://elsewhere.example'] },
    expires_in: 60,
  })
  assert.deepEqual(await runPage(token), { refused: { status: 403, code: 'origin_not_allowed' } })
})
