/**
 * `npm run bench -- gateway-cache` (issue 25, item 5): time to first audio on `/tts/bytes` for a TTS
 * cache hit against a miss, local (a voxgate with `--tts-cache-mb`, real engines) and relayed (a
 * gateway with `--tts-cache-mb` in front of an upstream voxgate with real engines). A miss is a
 * transcript never asked before (a counter in it); a hit is one sentence asked, read whole (only a
 * whole answer is kept), then asked again. Servers run in this process (unlike `gateway`, which forks
 * them), so the figures include the client's share of one event loop; the difference between hit and
 * miss is what matters. The breaker/cache-on-vs-off throughput ratio is `gateway-overhead`'s.
 */
import https from 'node:https'
import { bearer, mint } from '../packages/server/test/helpers/http.ts'
import { startTestServer, type TestServer } from '../packages/server/test/helpers/server.ts'
import { DEFAULT_VOICE_ID } from '../packages/server/src/tts/index.ts'
import { percentile, ttfb } from './ttfb.ts'

const ROUNDS = 50
const SENTENCE = 'Welcome back, it is good to hear from you again today.'
const fmt = (n: number) => n.toFixed(1)

/** One whole `/tts/bytes` answer, read to its end (so the cache keeps it). */
function speakWhole(url: string, token: string, transcript: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL('/tts/bytes', url),
      { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' } },
      (res) => {
        res.resume()
        res.on('end', resolve)
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(
      JSON.stringify({
        model_id: 'sonic-3',
        transcript,
        voice: DEFAULT_VOICE_ID,
        output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
      }),
    )
  })
}

async function measure(label: string, server: TestServer): Promise<void> {
  const token = await mint(server.url, server.apiKey, { grants: { tts: true }, expires_in: 3600 })
  const target = { url: server.url, credential: token, voiceId: DEFAULT_VOICE_ID }
  await speakWhole(server.url, token, SENTENCE)
  const miss: number[] = []
  const hit: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    miss.push(await ttfb(target, 'bytes', `${SENTENCE} Number ${i}.`))
    hit.push(await ttfb(target, 'bytes', SENTENCE))
  }
  const p = (xs: number[], q: number) => fmt(percentile(xs, q))
  console.log(
    `${label.padEnd(8)} miss p50 ${p(miss, 50)} ms p95 ${p(miss, 95)} ms   hit p50 ${p(hit, 50)} ms p95 ${p(hit, 95)} ms`,
  )
}

export async function gatewayCacheSection(): Promise<void> {
  console.log('\n## gateway-cache: time to first audio, /tts/bytes, a TTS cache hit against a miss')
  const quiet = { logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 } as const
  const local = await startTestServer({ ...quiet, speech: 'real', ttsCacheMb: 64 })
  try {
    await measure('local', local)
  } finally {
    await local.close()
  }
  const upstream = await startTestServer({ ...quiet, speech: 'real' })
  const gateway = await startTestServer({
    ...quiet,
    upstreamUrl: upstream.url,
    upstreamApiKey: upstream.apiKey,
    ttsCacheMb: 64,
  })
  try {
    await measure('relayed', gateway)
  } finally {
    await gateway.close()
    await upstream.close()
  }
}
