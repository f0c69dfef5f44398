/**
 * Issue "speech" figures: time to first audio on each transport for one and twelve sentences beside
 * the engine's own time for the first sentence, and how many real-time streams the machine sustains.
 */
import type { TestServer } from '../packages/server/test/helpers/server.ts'
import type { SentenceRunner } from '../packages/server/src/tts/job-stream.ts'
import type { SpeechService } from '../packages/server/src/tts/types.ts'
import { measureEngineFirstSentence } from './tts-engine.ts'
import { openSocket, percentile, ttfb, type Transport } from './ttfb.ts'
import { realtimeStreams } from './realtime-streams.ts'

export const ONE_SENTENCE = 'Access tokens let a browser speak without ever seeing the API key.'
const MORE = [
  'The app server mints them after the user signs in.',
  'Each token opens only the speech endpoints.',
  'It expires within minutes, so a leak is short lived.',
  'The browser refreshes it before it runs out.',
  'Revocation ends open streams at once.',
  'Budgets cap what a single token may spend.',
  'Origins limit where a token may be used.',
  'Voices can be restricted per token as well.',
  'Every stream is counted against its key.',
  'Logs never carry the token itself.',
  'That is the whole idea.',
]
export const SENTENCES = [ONE_SENTENCE, ...MORE]
export const TWELVE_SENTENCES = SENTENCES.join(' ')

export interface TtfbRow {
  transport: Transport | 'service'
  sentences: number
  p50: number
  p95: number
}

/** First chunk out of the speech service itself (pool, engine, resampling, encoding; no HTTP). */
async function serviceFirstChunk(speech: SpeechService, voiceId: string, text: string): Promise<number> {
  const controller = new AbortController()
  const start = performance.now()
  const request = {
    text,
    voiceId,
    outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
  } as const
  for await (const chunk of speech.synthesize(request, controller.signal)) {
    if (chunk.audio.byteLength > 0) break
  }
  const ms = performance.now() - start
  controller.abort()
  return ms
}

/**
 * Every measurement of one round runs back to back (engine probe, the service, each transport, one
 * and twelve sentences), round after round, so all of them see the same machine: on a shared host,
 * measuring one series after another would compare different moments, not different code paths.
 */
export async function benchTtfb(
  t: TestServer,
  runner: SentenceRunner,
  voiceId: string,
  runs: number,
): Promise<{ engine: Awaited<ReturnType<typeof measureEngineFirstSentence>>; rows: TtfbRow[] }> {
  const target = { url: t.url, credential: t.apiKey, voiceId }
  const speech = t.server.ctx.speech
  const ws = await openSocket(target)
  const series = new Map<string, number[]>()
  const record = (key: string, ms: number) => series.set(key, [...(series.get(key) ?? []), ms])
  const engineRuns: Awaited<ReturnType<typeof measureEngineFirstSentence>>[] = []
  try {
    for (let round = -3; round < runs; round++) {
      const warmup = round < 0
      const engine = await measureEngineFirstSentence(runner, voiceId, ONE_SENTENCE, 1, 0)
      if (!warmup) engineRuns.push(engine)
      for (const [sentences, text] of [
        [1, ONE_SENTENCE],
        [12, TWELVE_SENTENCES],
      ] as const) {
        const service = await serviceFirstChunk(speech, voiceId, text)
        if (!warmup) record(`service:${sentences}`, service)
        for (const transport of ['bytes', 'sse', 'websocket'] as const) {
          const ms = await ttfb(target, transport, text, ws)
          if (!warmup) record(`${transport}:${sentences}`, ms)
        }
      }
    }
  } finally {
    ws.close()
  }
  const firsts = engineRuns.map((e) => e.p50)
  const totals = engineRuns.map((e) => e.totalP50)
  const engine = {
    voiceId,
    runs,
    p50: percentile(firsts, 50),
    p95: percentile(firsts, 95),
    totalP50: percentile(totals, 50),
  }
  const rows: TtfbRow[] = []
  for (const transport of ['service', 'bytes', 'sse', 'websocket'] as const) {
    for (const sentences of [1, 12]) {
      const values = series.get(`${transport}:${sentences}`) ?? []
      rows.push({ transport, sentences, p50: percentile(values, 50), p95: percentile(values, 95) })
    }
  }
  return { engine, rows }
}

/**
 * Bursts of `counts` streams (ascending), one after another; stops after a count that does not keep
 * up unless a later count is in `needed` (a target is read at it).
 */
export async function benchRealtimeStreams(t: TestServer, voiceId: string, counts: number[], needed: number[] = []) {
  const results = []
  for (const streams of counts) {
    const r = await realtimeStreams({
      url: t.url,
      credential: t.apiKey,
      voiceId,
      streams,
      transcript: TWELVE_SENTENCES,
      sampleRate: 24000,
      allowanceMs: 1000,
    })
    results.push(r)
    if (r.keptUp < r.streams && !needed.some((n) => n > streams)) break
  }
  return results
}
