import type { CoreParts, OperationsParts } from '../context.ts'
import type { UndoStack } from '../undo-stack.ts'
import { WebhookAdmin } from '../webhooks/admin.ts'
import { WebhookDeliverer } from '../webhooks/deliverer.ts'
import { Outbox } from '../webhooks/outbox.ts'

/**
 * The webhook outbox and its deliverer. The deliverer is started once the server listens
 * (`deliverer.start()`), so a failed start sends nothing.
 */
export function openOperations(
  core: CoreParts,
  opened: UndoStack,
): { parts: OperationsParts; deliverer: WebhookDeliverer } {
  const { config, store, clock, logger } = core
  const policy = { allowPrivate: config.webhookAllowPrivate }
  const deliverer = new WebhookDeliverer({ store, clock, logger, policy, pollMs: config.storePollMs })
  opened.push(() => deliverer.stop())
  // An event made here leaves at once instead of at the next poll.
  const wake = () => deliverer.wake()
  return {
    parts: { ...core, outbox: new Outbox(store, wake), webhooks: new WebhookAdmin(store, clock, policy, wake) },
    deliverer,
  }
}
