import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'

/** Above this many tracked tokens, usage of expired ones is dropped on the next charge. */
const PRUNE_AT = 10_000

/**
 * Seconds of audio each token has had transcribed (`limits.audio_seconds`, `usage.audio_seconds`):
 * the duration of the audio received, silence included, whether it was recognised as speech or not.
 * Kept in memory until the token expires, like the characters budget (streams/registry.ts).
 */
export class AudioUsage {
  readonly #used = new Map<string, { seconds: number; expiresAtSeconds: number }>()

  constructor(private readonly clock: Clock) {}

  used(jti: string): number {
    return this.#used.get(jti)?.seconds ?? 0
  }

  /** Whether the token has any audio left at all (checked before a stream opens). */
  assertRemaining(principal: Principal): void {
    if (principal.kind !== 'token') return
    const budget = principal.limits?.audio_seconds
    if (budget !== undefined && this.used(principal.jti) >= budget) throw exhausted(budget, this.used(principal.jti))
  }

  /** Charges `seconds`, or throws quota_exceeded and charges nothing. */
  charge(principal: Principal, seconds: number): void {
    if (principal.kind !== 'token' || seconds <= 0) return
    const used = this.used(principal.jti)
    const budget = principal.limits?.audio_seconds
    if (budget !== undefined && Math.round((used + seconds) * 1e6) / 1e6 > budget) throw exhausted(budget, used)
    if (this.#used.size >= PRUNE_AT) this.#prune()
    // Microsecond sums: a budget spent in 0.1 s frames reaches it exactly, not 1.9999999.
    this.#used.set(principal.jti, { seconds: Math.round((used + seconds) * 1e6) / 1e6, expiresAtSeconds: principal.expiresAtSeconds })
  }

  /** Returns seconds charged for audio that was never recognised (a failed upload). */
  refund(principal: Principal, seconds: number): void {
    const entry = principal.kind === 'token' ? this.#used.get(principal.jti) : undefined
    if (entry) entry.seconds = Math.max(0, entry.seconds - seconds)
  }

  #prune(): void {
    const now = this.clock.now() / 1000
    for (const [jti, u] of this.#used) if (u.expiresAtSeconds < now - 60) this.#used.delete(jti)
  }
}

const exhausted = (budget: number, used: number) => new VoxgateError('quota_exceeded',
  `This access token's budget of ${budget} seconds of audio would be exceeded (${Math.round(used * 10) / 10} used).`, { 'x-should-retry': 'false' })
