/**
 * Longest `reason` a revocation may carry (`POST /access-token/revoke`): the operator's words, kept
 * in the audit row's `details`. In a module of its own so the console's form bundles the same bound.
 */
export const REVOKE_REASON_MAX_CHARS = 500
