import type { ApiKeyStore } from './api-keys.ts'
import type { AuditStore } from './audit-types.ts'
import type { ConsoleSessionStore } from './console-sessions.ts'
import type { SharedCounters } from './counters.ts'
import type { QuotaStore } from './quotas.ts'
import type { RevocationStore } from './revocations.ts'
import type { SigningKeyStore } from './signing-keys.ts'
import type { StoreState } from './state.ts'
import type { UsageStore } from './usage.ts'
import type { WebhookStore } from './webhooks.ts'

export type {
  ApiKeyChange,
  ApiKeyRecord,
  ApiKeyRotation,
  ApiKeyStore,
  KeyChangeResult,
  KeyTrail,
  NewApiKeyRecord,
} from './api-keys.ts'
export type { AuditStore } from './audit-types.ts'
export type { ConsoleSessionRecord, ConsoleSessionStore } from './console-sessions.ts'
export type { SharedCounters } from './counters.ts'
export type { QuotaPeriod, QuotaRecord, QuotaStore } from './quotas.ts'
export type { Revocation, RevocationStore } from './revocations.ts'
export type { SigningKeyRecord, SigningKeyStore } from './signing-keys.ts'
export type { StoreSnapshot, StoreState } from './state.ts'
export type { ChangeTrail } from './trail.ts'
export type { Reservation, UsageDelta, UsageFilter, UsageRefund, UsageRefusal, UsageRow, UsageStore } from './usage.ts'
export type {
  ClaimedDelivery,
  OutboxEvent,
  WebhookAttempt,
  WebhookDelivery,
  WebhookRecord,
  WebhookStore,
} from './webhooks.ts'

/**
 * The one storage interface: SQLite (embedded default, sqlite/) or PostgreSQL (postgres/), each built
 * as one file per concern behind the interfaces below, each of which states its own contract. Methods
 * are async so a networked store fits without changing callers; the hot path (a token seen before)
 * never reaches the store. Stores are built only by `openStore` (open.ts).
 *
 * What holds across the concerns (test/store/contract/ checks each concern on both engines):
 * - a write that resolved is durable (it survives `kill -9` of the process);
 * - the version (state.ts) moves with every change an instance caches (API keys, signing keys,
 *   revocations, quotas) in the change's own transaction, and never with usage, counters, webhooks,
 *   the audit log or console sessions;
 * - an admin change given an audit draft or a trail (trail.ts) writes its audit row, and its outbox
 *   event, in its own transaction: all land or none does, and a call that changes nothing writes none.
 *
 * A caller that uses one concern may take that concern's interface instead of the whole store.
 */
export interface Store
  extends ApiKeyStore,
    SigningKeyStore,
    RevocationStore,
    UsageStore,
    QuotaStore,
    SharedCounters,
    AuditStore,
    WebhookStore,
    ConsoleSessionStore,
    StoreState {}
