import { sessionKey, type AppDb, type User } from './db.ts'

/**
 * The session cookie. `__Host-` pins it to this exact host over HTTPS with Path=/ and no Domain;
 * SameSite=Lax keeps it on top-level navigations from elsewhere (a link to /speak works) but off
 * cross-site subrequests; HttpOnly keeps it from scripts.
 */
export const SESSION_COOKIE = '__Host-session'

export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=${maxAgeSeconds}`
}

export const clearedSessionCookie = (): string => sessionCookie('', 0)

/** One cookie's value from a `Cookie` header. */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined
  }
  return undefined
}

export function sessionIdOf(cookieHeader: string | null | undefined): string | undefined {
  const id = readCookie(cookieHeader, SESSION_COOKIE)
  return id !== undefined && /^[A-Za-z0-9_-]{43}$/.test(id) ? id : undefined
}

/** The signed-in user of a request, or null. */
export function userOf(db: AppDb, cookieHeader: string | null | undefined): User | null {
  const id = sessionIdOf(cookieHeader)
  return (id !== undefined && db.sessionUser(id)) || null
}

/** The signed-in user as the app kit sees it: the user id and the stored (hashed) session key. */
export function voiceUserOf(
  db: AppDb,
  cookieHeader: string | null | undefined,
): { id: string; session: string } | null {
  const id = sessionIdOf(cookieHeader)
  const user = id !== undefined ? db.sessionUser(id) : undefined
  return user && id !== undefined ? { id: user.id, session: sessionKey(id) } : null
}
