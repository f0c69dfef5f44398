import { createEspeakEngine } from './engine-espeak.ts'
import { createFliteEngine } from './engine-flite.ts'
import type { EngineSet } from './job.ts'

/**
 * The engines module a speech worker loads: every worker thread builds its own set (espeak keeps
 * global C state, so one instance per thread). A worker is told which module to load (PoolOptions
 * `engines`), which is how a test swaps the engine, the one part tests may swap, without any test
 * code in production workers.
 */
export interface EnginesModule {
  createEngines(): Promise<EngineSet>
}

export async function createEngines(): Promise<EngineSet> {
  return { espeak: await createEspeakEngine(), flite: await createFliteEngine() }
}
