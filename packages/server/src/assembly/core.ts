import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { ServerConfig } from '../config.ts'
import type { CoreParts } from '../context.ts'
import { FaultLog } from '../fault-log.ts'
import { NO_METRICS } from '../metrics/metrics.ts'
import { meteredStore } from '../metrics/store.ts'
import { withRequestDeadline } from '../store/deadline.ts'
import { faultReportingStore } from '../store/fault-reporting.ts'
import { openStore } from '../store/open.ts'
import type { Store } from '../store/types.ts'
import type { UndoStack } from '../undo-stack.ts'
import type { Opened } from './opened.ts'

export interface CoreInput {
  config: ServerConfig
  clock: Clock
  logger: Logger
  /** A store opened by the caller (tests, several servers on one store); it is not closed here. */
  store?: Store
  /** Every part opened is pushed here, so a failure further on closes it. */
  opened: UndoStack
}

/**
 * Metrics and the store. Every store call waits at most its deadline, is counted, and an outage is
 * logged once per period rather than once per request.
 */
export async function openCore(input: CoreInput): Promise<Opened<CoreParts>> {
  const { config, clock, logger, opened } = input
  const metrics = config.metrics ? (await import('../metrics/prometheus.ts')).createMetrics() : NO_METRICS
  const ownStore = input.store ?? (await openStore(config))
  if (!input.store) opened.push(() => ownStore.close())
  const storeFaults = new FaultLog({ logger, dependency: 'store', clock })
  const store = faultReportingStore(
    meteredStore(withRequestDeadline(ownStore, config.storeRequestTimeoutMs), metrics),
    storeFaults,
  )
  return {
    parts: { config, clock, logger, metrics, store },
    close: async () => {
      if (!input.store) await store.close()
    },
  }
}
