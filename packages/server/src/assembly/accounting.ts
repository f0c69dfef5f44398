import type { AccountingParts, AuthParts, OperationsParts } from '../context.ts'
import { observeRedis } from '../metrics/metrics.ts'
import { QuotaBook } from '../quotas/book.ts'
import { UsageMeter } from '../quotas/meter.ts'
import { announceThreshold } from '../quotas/quota-alerts.ts'
import { QuotaSync } from '../quotas/sync.ts'
import { isStoreOutage } from '../store/errors.ts'
import { CharacterBudgets } from '../streams/budgets.ts'
import { StreamRefusals } from '../streams/refusals.ts'
import { StreamRegistry } from '../streams/registry.ts'
import { openSharedState } from '../streams/shared-state.ts'
import { StreamCounts } from '../streams/stream-counts.ts'
import type { UndoStack } from '../undo-stack.ts'
import type { Opened } from './opened.ts'

/**
 * Streams, their slots and rate limits (shared through Redis when configured), budgets and quotas.
 * A revocation or quota change made on another instance reaches this one at once through the bus;
 * the store poll covers a lost message. `audioMeter` is speech to text's, which is built later.
 */
export async function openAccounting(
  built: AuthParts & OperationsParts,
  opened: UndoStack,
): Promise<Opened<AccountingParts> & { audioMeter: UsageMeter }> {
  const { config, clock, logger, metrics, store, sync, revocations, outbox } = built
  const shared = await openSharedState(config, store, clock, logger)
  opened.push(() => shared.close())
  observeRedis(shared.redis, metrics)
  const streams = new StreamRegistry(revocations, shared.slots, metrics.streams)
  sync.onChange(() => streams.sweep())
  const quotas = new QuotaBook()
  const quotaSync = new QuotaSync(quotas, store, clock)
  // Those already set were aligned with the ledger where they were set.
  await quotaSync.reload({ align: false })
  const reloadQuotas = () =>
    quotaSync.reload().catch((err: unknown) => {
      if (!isStoreOutage(err)) logger.error({ err }, 'quotas reload failed')
    })
  // Quota changes move the store's version, so another instance's change reaches this one's poll.
  sync.onChange(reloadQuotas)
  // After a Redis reconnect the store is re-read, since messages published meanwhile are lost.
  const bus = shared.revocationBus
  if (bus) quotaSync.notifyOthers = () => bus.publishQuotasChanged()
  await bus?.subscribe({
    revoked: (r) => {
      revocations.add(r)
      streams.sweep()
    },
    quotasChanged: () => void reloadQuotas(),
    reconnected: () => void sync.refresh().catch(() => undefined),
  })
  const characterMeter = new UsageMeter(store, quotas, clock, 'characters', logger)
  const audioMeter = new UsageMeter(store, quotas, clock, 'audio', logger)
  characterMeter.onThreshold = audioMeter.onThreshold = announceThreshold(outbox, () => clock.now())
  let streamCounts: StreamCounts | undefined
  if (config.console) {
    const counts = new StreamCounts(streams, shared.redis, clock)
    counts.start()
    opened.push(() => counts.close())
    streamCounts = counts
  }
  const parts: AccountingParts = {
    config,
    clock,
    logger,
    metrics,
    store,
    streams,
    quotas: quotaSync,
    budgets: new CharacterBudgets(store, characterMeter, clock, logger),
    refusals: new StreamRefusals(store, clock, logger),
    rateLimiter: shared.rateLimiter,
    shared,
    ...(streamCounts && { streamCounts }),
  }
  return {
    parts,
    audioMeter,
    // After the app has closed: its streams hold slots in Redis until then.
    close: async () => {
      await streamCounts?.close()
      await shared.close()
    },
  }
}
