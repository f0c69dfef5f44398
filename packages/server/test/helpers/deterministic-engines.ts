import type { EngineSet } from '../../src/tts/job.ts'
import { createDeterministicEngine } from './deterministic-engine.ts'

/** An engines module (see src/tts/engines.ts) whose every engine is the deterministic tone engine. */
export async function createEngines(): Promise<EngineSet> {
  const engine = createDeterministicEngine()
  return { espeak: engine, flite: engine }
}

export const DETERMINISTIC_ENGINES = new URL(import.meta.url)
