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

const DAY_MS = 86_400_000
/** The last day asked for: every stream that ends settles with its day, and it is nearly always today's. */
let last = { day: Number.NaN, text: '' }

/** The UTC date of `ms`, `YYYY-MM-DD`: the ledger's day. */
export function utcDay(ms: number): string {
  const day = Math.floor(ms / DAY_MS)
  if (day !== last.day) last = { day, text: new Date(day * DAY_MS).toISOString().slice(0, 10) }
  return last.text
}

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
