import type { AuditDraft } from './audit-types.ts'

/**
 * A signed-in operator console (docs/console.md). Found by the digest of its cookie's opaque id (the
 * id itself is never stored); ends at `expiresAt` (absolute) or once idle past the caller's limit.
 */
export interface ConsoleSessionRecord {
  /** sha256 of the session id, hex. */
  idHash: string
  /** The API key that signed in; null for a one-time link (`voxgate console-link`). */
  keyId: string | null
  /** What a link session may do; a key's session follows its key's scopes at each request. */
  scope: 'admin' | 'read'
  createdAt: number
  lastSeenAt: number
  expiresAt: number
}

/**
 * Console sign-in codes and sessions, shared by every instance (a session made on one is seen on all).
 * Nothing here moves the version: no instance caches them.
 */
export interface ConsoleSessionStore {
  /** Stores a one-time console sign-in code (by digest) valid until `expiresAt`. */
  addConsoleLoginCode(codeHash: string, expiresAt: number): Promise<void>
  /**
   * Uses a console sign-in code: true once, for a code stored and not expired at `nowMs`; it is gone
   * afterwards, expired or not (atomic across every instance: two instances racing with one code, one wins).
   */
  takeConsoleLoginCode(codeHash: string, nowMs: number): Promise<boolean>
  /** Starts a session, with its `console.signed_in` row in the same transaction: both land or neither. */
  createConsoleSession(record: ConsoleSessionRecord, audit?: AuditDraft): Promise<void>
  getConsoleSession(idHash: string): Promise<ConsoleSessionRecord | undefined>
  /** Moves a session's last-seen time forward, never back (its idle clock). */
  touchConsoleSession(idHash: string, atMs: number): Promise<void>
  /** Ends a session on every instance; false when there was none. */
  endConsoleSession(idHash: string): Promise<boolean>
  /** Drops sessions expired at `nowMs` or not seen since `idleBeforeMs`, and codes expired at `nowMs` (housekeeping). */
  pruneConsoleSessions(nowMs: number, idleBeforeMs: number): Promise<void>
}
