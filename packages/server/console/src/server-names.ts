/**
 * Names and bounds the console shares with the server, imported from the server's own source and bundled into
 * the page by Vite, so the console's lists cannot drift from what the server accepts (a name the
 * server renames fails the typecheck; one it adds shows up here by itself).
 */
export { AUDIT_ACTIONS, type AuditAction } from '../../src/store/audit-types.ts'
export { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/events.ts'
export { REVOKE_REASON_MAX_CHARS } from '../../src/audit/reason.ts'
