import { concatPcm } from '../../src/tts/pcm.ts'
import type { SentenceRunner } from '../../src/tts/job-stream.ts'
import type { JobDone } from '../../src/tts/job.ts'
import { planJobs } from '../../src/tts/pipeline.ts'
import type { SynthesisRequest } from '../../src/tts/types.ts'
import { createVoiceCatalogue } from '../../src/tts/voices.ts'

/** One sentence synthesized straight through the runner, with the engine's own measurements. */
export interface SentenceProbe {
  pcm: Int16Array
  sampleRate: number
  done: JobDone
}

export type ProbeRequest = Pick<SynthesisRequest, 'text' | 'voiceId' | 'language' | 'speed'> & { sampleRate: number }

/**
 * Synthesizes one sentence as given (no splitting, no encoding) at `sampleRate`, for engine tests and
 * benchmarks that measure the engines themselves.
 */
export async function probeSentence(runner: SentenceRunner, request: ProbeRequest): Promise<SentenceProbe> {
  const deps = { runner, entry: createVoiceCatalogue().entry }
  const job = planJobs(
    deps,
    { ...request, outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: request.sampleRate } },
    request.sampleRate,
  ).job(request.text)
  const parts: Int16Array[] = []
  for await (const event of runner.start(job)) {
    if (event.type === 'done') return { pcm: concatPcm(parts), sampleRate: request.sampleRate, done: event }
    parts.push(event.pcm)
  }
  throw new Error('the sentence ended without a result')
}
