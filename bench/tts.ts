/**
 * Issue "speech" figures: time to first audio on each transport for one and twelve sentences beside
 * the engine's own time for the first sentence, and how many real-time streams the machine sustains.
 */
import type { TestServer } from '../packages/server/test/helpers/server.ts'
import type { VoxgateSpeechService } from '../packages/server/src/tts/index.ts'
import { measureEngineFirstSentence } from './tts-engine.ts'
import { openSocket, percentile, ttfb, type Transport } from './ttfb.ts'
import { realtimeStreams } from './realtime-streams.ts'

export const ONE_SENTENCE = 'Access tokens let a browser speak without ever seeing the API key.'
const MORE = [
  'The app server mints them after the user signs in.', 'Each token opens only the speech endpoints.',
  'It expires within minutes, so a leak is short lived.', 'The browser refreshes it before it runs out.',
  'Revocation ends open streams at once.', 'Budgets cap what a single token may spend.',
  'Origins limit where a token may be used.', 'Voices can be restricted per token as well.',
  'Every stream is counted against its key.', 'Logs never carry the token itself.', 'That is the whole idea.',
]
export const TWELVE_SENTENCES = [ONE_SENTENCE, ...MORE].join(' ')

export interface TtfbRow { transport: Transport; sentences: number; p50: number; p95: number }

export async function benchTtfb(t: TestServer, voiceId: string, runs: number): Promise<{ engine: Awaited<ReturnType<typeof measureEngineFirstSentence>>; rows: TtfbRow[] }> {
  const target = { url: t.url, credential: t.apiKey, voiceId }
  const engine = await measureEngineFirstSentence(t.server.ctx.speech as VoxgateSpeechService, voiceId, ONE_SENTENCE, runs)
  const ws = await openSocket(target)
  const rows: TtfbRow[] = []
  try {
    for (const transport of ['bytes', 'sse', 'websocket'] as const) {
      for (const [sentences, text] of [[1, ONE_SENTENCE], [12, TWELVE_SENTENCES]] as const) {
        for (let i = 0; i < 3; i++) await ttfb(target, transport, text, ws)
        const times: number[] = []
        for (let i = 0; i < runs; i++) times.push(await ttfb(target, transport, text, ws))
        rows.push({ transport, sentences, p50: percentile(times, 50), p95: percentile(times, 95) })
      }
    }
  } finally {
    ws.close()
  }
  return { engine, rows }
}

/** Doubles N until streams stop keeping up; reports the largest N where all did. */
export async function benchRealtimeStreams(t: TestServer, voiceId: string, counts: number[]) {
  const results = []
  for (const streams of counts) {
    const r = await realtimeStreams({ url: t.url, credential: t.apiKey, voiceId, streams, transcript: TWELVE_SENTENCES, sampleRate: 24000, allowanceMs: 1000 })
    results.push(r)
    if (r.keptUp < r.streams) break
  }
  return results
}
