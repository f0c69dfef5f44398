import type { ModelInfo } from './types.ts'

/**
 * Model ids. voxgate has no model weights: the VOICE decides the engine (a flite voice is spoken by
 * flite, an espeak voice by espeak), so every model id is an alias accepted for compatibility.
 * `voxgate-espeak` and `voxgate-flite` name an engine for documentation and `/` listings, and
 * `voxgate-auto` (the default) and every Cartesia id mean "the voice's engine".
 */
export const DEFAULT_MODEL_ID = 'voxgate-auto'

export interface ModelEntry extends ModelInfo {
  /** The voxgate model this id stands for. */
  aliasOf: string
}

const OWN: Record<string, string> = { 'voxgate-auto': 'auto', 'voxgate-espeak': 'espeak', 'voxgate-flite': 'flite' }

/** Cartesia's undated model ids, all served by the default. */
export const CARTESIA_MODEL_IDS = [
  'sonic-3',
  'sonic-3.5',
  'sonic-2',
  'sonic-turbo',
  'sonic-latest',
  'sonic-english',
  'sonic-multilingual',
  'sonic',
] as const

/** Dated snapshots: `sonic-2025-01-01`, `sonic-3-2025-10-27`, `sonic-3.5-2026-05-04`, `sonic-turbo-2025-03-07`. */
const DATED = /^sonic(?:-[a-z0-9.]+)*-\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/

export const MODEL_IDS: readonly string[] = [...Object.keys(OWN), ...CARTESIA_MODEL_IDS]

export function resolveModel(modelId: string): ModelEntry | undefined {
  const engine = OWN[modelId]
  if (engine) return { id: modelId, engine, aliasOf: modelId }
  if ((CARTESIA_MODEL_IDS as readonly string[]).includes(modelId) || DATED.test(modelId)) {
    return { id: modelId, engine: 'auto', aliasOf: DEFAULT_MODEL_ID }
  }
  return undefined
}
