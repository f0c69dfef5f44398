import type { Logger } from 'pino'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import { clientFacing, isStoreOutage } from '../store/errors.ts'
import type { Charge, UsageMeter } from '../quotas/meter.ts'
import type { Store } from '../store/types.ts'
import { usageDelta } from '../usage/usage-delta.ts'

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
    private readonly meter: UsageMeter,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Seconds used by token `jti`. */
  async used(jti: string): Promise<number> {
    return (
      (await this.store.usedAudio(jti).catch((err: unknown) => {
        throw clientFacing(err)
      })) / 1000
    )
  }

  /** Refuses a token whose audio budget is already spent (checked before a stream or upload starts). */
  async assertRemaining(principal: Principal): Promise<void> {
    const budget = principal.kind === 'token' ? principal.limits?.audio_seconds : undefined
    if (budget === undefined || principal.kind !== 'token') return
    const used = await this.used(principal.jti)
    if (used >= budget) throw exhausted(budget, used)
  }

  /**
   * Reserves up to `ms` milliseconds from the token's budget and the quotas that apply, or as many as
   * they all still hold when `partial` (never fewer than 1); returns what was reserved and the counters
   * charged, or throws quota_exceeded when nothing (or, without `partial`, not all) fits.
   */
  async reserve(principal: Principal, ms: number, partial = false): Promise<AudioReservation> {
    if (ms <= 0) return { ms, charge: [] }
    const budget = principal.kind === 'token' ? principal.limits?.audio_seconds : undefined
    const token =
      principal.kind === 'token'
        ? {
            key: principal.jti,
            limit: budget === undefined ? undefined : budget * 1000,
            expiresAt: principal.expiresAtSeconds * 1000,
            refused: (used: number) => exhausted(budget ?? 0, used / 1000),
          }
        : undefined
    const { amount, charge } = await this.meter.reserve(principal, ms, token, partial)
    return { ms: amount, charge }
  }

  /** Whether a quota caps the principal's audio (so even an API key's streams must reserve). */
  metered(principal: Principal): boolean {
    return principal.kind === 'token' || this.meter.quotaApplies(principal)
  }

  /**
   * Settles a finished stream or upload: the ledger gets the audio transcribed, and reserved
   * milliseconds never used go back to `charge`'s counters, in one store write.
   */
  settle(principal: Principal, transcribedMs: number, charge: Charge, refundMs: number): void {
    const refund = refundMs > 0 && charge.length > 0 ? { keys: charge, characters: 0, audioMs: refundMs } : undefined
    this.store
      .settleUsage(usageDelta(principal, { audioMsTranscribed: transcribedMs, streams: 1 }, this.clock.now()), refund)
      .catch((err: unknown) => {
        // An outage is in the store's fault log, counted: not a line per upload.
        if (!isStoreOutage(err)) this.logger.error({ err, key_id: principal.keyId }, 'usage settlement failed')
      })
  }

  /** Gives back reserved milliseconds never used; a failed refund leaves them charged (the safe side). */
  refund(charge: Charge, ms: number): void {
    void this.meter.refund(charge, ms)
  }
}

/** Milliseconds of audio reserved, and the counters they were charged to. */
export interface AudioReservation {
  ms: number
  charge: Charge
}

export const exhausted = (budget: number, used: number) =>
  new VoxgateError(
    'quota_exceeded',
    `This access token's budget of ${budget} seconds of audio would be exceeded (${Math.round(used * 10) / 10} used).`,
    { 'x-should-retry': 'false' },
  )
