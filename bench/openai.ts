/**
 * `npm run bench -- openai`: time to first MP3 audio of OpenAI's `/v1/audio/speech` against
 * `/tts/bytes`, the same text, voice and format (24 kHz MP3). Runs come in pairs whose order
 * alternates (a request can meet the end of the one before it), and the figure is the median of the
 * paired differences (target: within +5 ms). Twice: with Flite, what a user waits for, and with the
 * deterministic engine, whose first audio takes no time, so the difference is the route's own cost.
 */
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { DEFAULT_VOICE_ID } from '../packages/server/src/tts/index.ts'
import { median } from './auth.ts'
import { firstMp3Audio, percentile, type TtfbTarget } from './ttfb.ts'
import { loadAverage, verdict } from './verdict.ts'

/** The target: OpenAI's route costs at most this much more than `/tts/bytes`. */
const TARGET_MS = 5
const TEXT = 'The quick brown fox jumps over the lazy dog.'
const fmt = (n: number) => n.toFixed(1)
const signed = (n: number) => `${n >= 0 ? '+' : ''}${fmt(n)}`

interface Paired {
  bytes: number[]
  openai: number[]
  differences: number[]
}

async function paired(target: TtfbTarget, runs: number): Promise<Paired> {
  const r: Paired = { bytes: [], openai: [], differences: [] }
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? (['tts-bytes', 'openai'] as const) : (['openai', 'tts-bytes'] as const)
    const ms: Record<string, number> = {}
    for (const route of order) ms[route] = await firstMp3Audio(target, route, TEXT)
    r.bytes.push(ms['tts-bytes']!)
    r.openai.push(ms.openai!)
    r.differences.push(ms.openai! - ms['tts-bytes']!)
  }
  return r
}

function report(engine: string, runs: number, r: Paired): void {
  const d = median(r.differences)
  console.log(
    `${engine}: /tts/bytes p50 ${fmt(percentile(r.bytes, 50))} ms (baseline), /v1/audio/speech p50 ${fmt(percentile(r.openai, 50))} ms, ${runs} pairs`,
  )
  const quartiles = `paired differences p25 ${signed(percentile(r.differences, 25))}, p75 ${signed(percentile(r.differences, 75))} ms`
  console.log(
    verdict(
      `  first audio, ${engine}`,
      `${signed(d)} ms median of pairs (${quartiles})`,
      `≤ +${TARGET_MS} ms`,
      d <= TARGET_MS,
    ),
  )
}

export async function openAiSection(): Promise<void> {
  console.log(
    `\n## OpenAI speech: time to first audio, 24 kHz MP3, pairs in alternating order (load average at start: ${loadAverage()})`,
  )
  const real = await startTestServer({ logLevel: 'silent', speech: 'real', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
  try {
    // Workers warm every catalogue voice in the background after start; let that finish first.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const target = { url: real.url, credential: real.apiKey, voiceId: DEFAULT_VOICE_ID }
    await paired(target, 2) // warm-up: the MP3 encoder's wasm, connections
    report('Flite SLT', 30, await paired(target, 30))
  } finally {
    await real.close()
  }
  const inline = await startTestServer({ logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
  try {
    const target = { url: inline.url, credential: inline.apiKey, voiceId: DEFAULT_VOICE_ID }
    await paired(target, 5)
    report('deterministic engine (the route alone)', 100, await paired(target, 100))
  } finally {
    await inline.close()
  }
}
