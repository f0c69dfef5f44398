import type { Revocation } from '../store/types.ts'
import type { TokenPrincipal } from './principal.ts'

/**
 * Everything that makes an otherwise valid token unusable, held in memory as sets so the check
 * costs a few hash lookups on every request, cached tokens included.
 */
export class RevocationList {
  #keys = new Set<string>()
  #jtis = new Set<string>()
  /** sub → tokens issued before this (unix seconds) are revoked. */
  #subs = new Map<string, number>()

  load(revokedKeyIds: readonly string[], revocations: readonly Revocation[]): void {
    this.#keys = new Set(revokedKeyIds)
    this.#jtis = new Set()
    this.#subs = new Map()
    for (const r of revocations) this.add(r)
  }

  add(r: Revocation): void {
    if (r.kind === 'jti') this.#jtis.add(r.jti)
    else this.#subs.set(r.sub, Math.max(this.#subs.get(r.sub) ?? 0, r.issuedBefore))
  }

  revokeKey(keyId: string): void {
    this.#keys.add(keyId)
  }

  isKeyRevoked(keyId: string): boolean {
    return this.#keys.has(keyId)
  }

  isTokenRevoked(t: Pick<TokenPrincipal, 'keyId' | 'jti' | 'sub' | 'issuedAtSeconds'>): boolean {
    if (this.#keys.has(t.keyId) || this.#jtis.has(t.jti)) return true
    if (t.sub === undefined) return false
    const cutoff = this.#subs.get(t.sub)
    return cutoff !== undefined && t.issuedAtSeconds < cutoff
  }
}
