import type { Logger } from 'pino'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import { isStoreOutage } from '../store/errors.ts'
import type { Store } from '../store/types.ts'
import type { Clock } from '../clock.ts'
import { usageDelta } from '../usage/usage-delta.ts'

/** The refusals the ledger counts: a known credential asked for a stream it may not have. */
export const REFUSAL_REASONS: ReadonlySet<string> = new Set([
  'quota_exceeded',
  'concurrency_limited',
  'rate_limited',
  'voice_not_allowed',
  'origin_not_allowed',
  'token_revoked',
])

/**
 * Counts refused streams in the usage ledger by reason, per API key, `sub` and day (a credential that
 * could not be verified at all cannot be attributed, and is not counted). One store write per refusal.
 */
export class StreamRefusals {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  record(principal: Principal, err: unknown): void {
    if (!(err instanceof VoxgateError) || !REFUSAL_REASONS.has(err.code)) return
    const { day, keyId, sub } = usageDelta(principal, {}, this.clock.now())
    this.store.recordRefusal({ day, keyId, sub, reason: err.code }).catch((e: unknown) => {
      if (!isStoreOutage(e)) this.logger.warn({ err: e }, 'refusal not counted')
    })
  }

  /** Runs `open` and counts the refusal it throws, if any. */
  async counting<T>(principal: Principal, open: () => Promise<T>): Promise<T> {
    try {
      return await open()
    } catch (err) {
      this.record(principal, err)
      throw err
    }
  }
}
