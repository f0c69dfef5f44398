import type { Logger } from 'pino'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import { clientFacing } from '../store/errors.ts'
import type { Store } from '../store/types.ts'
import { usageDelta } from '../streams/usage-delta.ts'

/**
 * Seconds of audio each token has had transcribed (`limits.audio_seconds`, `usage.audio_seconds`):
 * the duration of the audio received, silence included, whether it was recognised as speech or not.
 * Kept in the store, in milliseconds, like characters: reserved before the audio is recognised,
 * atomically across instances, durably across restarts; what a stream reserved and never used goes
 * back when it ends.
 */
export class AudioUsage {
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Seconds used by token `jti`. */
  async used(jti: string): Promise<number> {
    return (await this.store.usedAudio(jti).catch((err: unknown) => { throw clientFacing(err) })) / 1000
  }

  /** Refuses a token whose audio budget is already spent (checked before a stream or upload starts). */
  async assertRemaining(principal: Principal): Promise<void> {
    const budget = principal.kind === 'token' ? principal.limits?.audio_seconds : undefined
    if (budget === undefined || principal.kind !== 'token') return
    const used = await this.used(principal.jti)
    if (used >= budget) throw exhausted(budget, used)
  }

  /**
   * Reserves up to `ms` milliseconds, or as many as the budget still holds when `partial` (never
   * fewer than 1); returns what was reserved, or throws quota_exceeded when nothing (or, without
   * `partial`, not all) fits.
   */
  async reserve(principal: Principal, ms: number, partial = false): Promise<number> {
    if (principal.kind !== 'token' || ms <= 0) return ms
    const budget = principal.limits?.audio_seconds
    const budgetMs = budget === undefined ? undefined : budget * 1000
    const expiresAt = principal.expiresAtSeconds * 1000
    const store = (n: number) => this.store.reserveAudio(principal.jti, n, budgetMs, expiresAt).catch((err: unknown) => { throw clientFacing(err) })
    const first = await store(ms)
    if (first.granted) return ms
    const left = budgetMs === undefined ? 0 : budgetMs - first.used
    if (partial && left > 0 && (await store(left)).granted) return left
    throw exhausted(budget ?? 0, first.used / 1000)
  }

  /**
   * Settles a finished stream or upload: the ledger gets the audio transcribed, and reserved
   * milliseconds never used go back, in one store write.
   */
  settle(principal: Principal, transcribedMs: number, refundMs: number): void {
    const refund = principal.kind === 'token' && refundMs > 0 ? { jti: principal.jti, characters: 0, audioMs: refundMs } : undefined
    this.store.settleUsage(usageDelta(principal, { audioMsTranscribed: transcribedMs, streams: 1 }), refund)
      .catch((err: unknown) => this.logger.error({ err, key_id: principal.keyId }, 'usage settlement failed'))
  }

  /** Gives back reserved milliseconds never used; a failed refund leaves them charged (the safe side). */
  refund(principal: Principal, ms: number): void {
    if (principal.kind !== 'token' || ms <= 0) return
    this.store.refundAudio(principal.jti, ms).catch((err: unknown) => this.logger.error({ err, jti: principal.jti }, 'audio refund failed'))
  }
}

export const exhausted = (budget: number, used: number) => new VoxgateError('quota_exceeded',
  `This access token's budget of ${budget} seconds of audio would be exceeded (${Math.round(used * 10) / 10} used).`, { 'x-should-retry': 'false' })
