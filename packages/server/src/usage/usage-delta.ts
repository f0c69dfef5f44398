import type { Principal } from '../auth/principal.ts'
import type { UsageDelta } from '../store/types.ts'

/** What a finished stream did, to be added to the ledger. */
export interface StreamFigures {
  characters?: number
  audioMsProduced?: number
  audioMsTranscribed?: number
  audioMsVoiceChanged?: number
  /** Of `characters`: spoken locally because the upstream failed (gateway/fallback.ts). */
  charactersFallback?: number
  /** Of `characters`: answered from the TTS cache (tts/cache.ts). */
  charactersCached?: number
  streams?: number
}

/** The UTC date of `ms`, `YYYY-MM-DD`: the ledger's day. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** The ledger row a principal's finished stream adds to: its API key, its `sub`, today (UTC). */
export function usageDelta(principal: Principal, figures: StreamFigures, nowMs: number): UsageDelta {
  return {
    day: utcDay(nowMs),
    keyId: principal.keyId,
    sub: principal.kind === 'token' ? (principal.sub ?? null) : null,
    characters: figures.characters ?? 0,
    audioMsProduced: figures.audioMsProduced ?? 0,
    audioMsTranscribed: figures.audioMsTranscribed ?? 0,
    audioMsVoiceChanged: figures.audioMsVoiceChanged ?? 0,
    charactersFallback: figures.charactersFallback ?? 0,
    charactersCached: figures.charactersCached ?? 0,
    streams: figures.streams ?? 0,
  }
}
