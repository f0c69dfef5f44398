import type { EngineSet } from '../../src/tts/job.ts'
import { createDeterministicEngine } from './deterministic-engine.ts'

/** The text that makes this engine kill its worker, as an engine crashing in native code would. */
export const CRASH_TEXT = 'Crash here.'

/** An engines module (see src/tts/engines.ts) with an engine that dies on CRASH_TEXT. */
export async function createEngines(): Promise<EngineSet> {
  const inner = createDeterministicEngine()
  const engine = {
    ...inner,
    synth: (text: string, ...rest: Parameters<typeof inner.synth> extends [string, ...infer R] ? R : never) => {
      if (text === CRASH_TEXT) process.exit(70)
      return inner.synth(text, ...rest)
    },
  }
  return { espeak: engine, flite: engine }
}

export const CRASHING_ENGINES = new URL(import.meta.url)
