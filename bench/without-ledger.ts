/** The "off" side of the ledger benches (scripts/bench-operators.ts, bench/profile-ledger.ts). */
import type { Store, UsageDelta, UsageRefund } from '../packages/server/src/store/types.ts'

/**
 * A real store with the ledger switched off: every call goes to the store itself (bound to it, so its
 * private fields work), except that settling a stream only gives back what it reserved and never used,
 * and refusals are not counted.
 */
export function withoutLedger(store: Store): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'settleUsage') {
        return async (_delta: UsageDelta, refund?: UsageRefund) => {
          // Back to every counter the stream charged (its token's jti, its quotas'), as the store does.
          for (const key of refund?.keys ?? []) {
            if (refund!.characters > 0) await target.refundCharacters(key, refund!.characters)
            if (refund!.audioMs > 0) await target.refundAudio(key, Math.floor(refund!.audioMs))
          }
        }
      }
      if (prop === 'recordRefusal') return async () => {}
      const value: unknown = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
