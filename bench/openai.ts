/**
 * `npm run bench -- openai`: time to first MP3 audio of OpenAI's `/v1/audio/speech` against
 * `/tts/bytes`, the same text, voice and format (24 kHz MP3), runs interleaved so both meet the same
 * machine load. Only the difference travels (target: within +5 ms p50).
 */
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { DEFAULT_VOICE_ID } from '../packages/server/src/tts/index.ts'
import { firstMp3Audio, percentile } from './ttfb.ts'

const RUNS = 30
/** The target: OpenAI's route costs at most this much more than `/tts/bytes` at p50. */
const TARGET_MS = 5
const TEXT = 'The quick brown fox jumps over the lazy dog.'
const fmt = (n: number) => n.toFixed(1)
const signed = (n: number) => `${n >= 0 ? '+' : ''}${fmt(n)}`

export async function openAiSection(): Promise<void> {
  const t = await startTestServer({ logLevel: 'silent', speech: 'real', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
  try {
    // Workers warm every catalogue voice in the background after start; let that finish first.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const target = { url: t.url, credential: t.apiKey, voiceId: DEFAULT_VOICE_ID }
    const bytes: number[] = []
    const openai: number[] = []
    for (let i = 0; i < RUNS; i++) {
      bytes.push(await firstMp3Audio(target, 'tts-bytes', TEXT))
      openai.push(await firstMp3Audio(target, 'openai', TEXT))
    }
    const [b, o] = [percentile(bytes, 50), percentile(openai, 50)]
    console.log(`\n## OpenAI speech: time to first audio, Flite SLT, 24 kHz MP3, ${RUNS} runs each, interleaved`)
    const verdict = o - b <= TARGET_MS ? 'within target' : 'OVER target'
    console.log(
      `/tts/bytes p50 ${fmt(b)} ms (baseline), /v1/audio/speech (mp3, stream_format audio) p50 ${fmt(o)} ms, ${signed(o - b)} ms (target ≤ +${TARGET_MS}): ${verdict}`,
    )
  } finally {
    await t.close()
  }
}
