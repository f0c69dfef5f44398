import { createHash, randomBytes, randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'

export interface User {
  id: string
  email: string
  passwordHash: string
}

/** A session id is 256 random bits; only its SHA-256 is stored, so a leaked table signs nobody in. */
export const sessionKey = (sessionId: string): string => createHash('sha256').update(sessionId).digest('hex')

/** Users and server-side sessions in SQLite. Every time comes from the injected clock. */
export class AppDb {
  readonly #db: Database.Database
  readonly #now: () => number

  constructor(file: string, now: () => number = Date.now) {
    this.#now = now
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
      CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
    `)
  }

  /** Undefined when the email is taken. */
  createUser(email: string, passwordHash: string): User | undefined {
    const user = { id: randomUUID(), email, passwordHash }
    const info = this.#db
      .prepare('INSERT OR IGNORE INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(user.id, email, passwordHash, this.#now())
    return info.changes === 1 ? user : undefined
  }

  userByEmail(email: string): User | undefined {
    const row = this.#db
      .prepare('SELECT id, email, password_hash AS passwordHash FROM users WHERE email = ?')
      .get(email) as User | undefined
    return row
  }

  /** Starts a session; returns the id for the cookie (the only place it exists in full). */
  createSession(userId: string, lifetimeSeconds: number): string {
    const id = randomBytes(32).toString('base64url')
    this.#db
      .prepare('INSERT INTO sessions (key, user_id, expires_at) VALUES (?, ?, ?)')
      .run(sessionKey(id), userId, this.#now() + lifetimeSeconds * 1000)
    return id
  }

  /** The user of a live session, or undefined; an expired session read here is deleted on the spot. */
  sessionUser(sessionId: string): User | undefined {
    const row = this.#db
      .prepare(`
      SELECT u.id, u.email, u.password_hash AS passwordHash, s.expires_at AS expiresAt FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.key = ?`)
      .get(sessionKey(sessionId)) as (User & { expiresAt: number }) | undefined
    if (!row) return undefined
    if (row.expiresAt <= this.#now()) {
      this.deleteSession(sessionId)
      return undefined
    }
    return { id: row.id, email: row.email, passwordHash: row.passwordHash }
  }

  /** Deletes every expired session; returns how many. */
  purgeExpiredSessions(): number {
    return this.#db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(this.#now()).changes
  }

  /** Sign out everywhere: deletes every session of the user; returns how many. */
  deleteUserSessions(userId: string): number {
    return this.#db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes
  }

  deleteSession(sessionId: string): void {
    this.#db.prepare('DELETE FROM sessions WHERE key = ?').run(sessionKey(sessionId))
  }

  close(): void {
    this.#db.close()
  }
}
