import type { TokenPrincipal } from './principal.ts'

/**
 * Verified tokens by their exact string. Bounded: when full, the oldest entry goes (Map keeps
 * insertion order). Soundness does not rest on the cache: expiry and revocation are checked on
 * every hit by the caller, and only a signature-verified token is ever stored.
 */
export class TokenCache {
  readonly #entries = new Map<string, TokenPrincipal>()
  constructor(private readonly capacity: number) {}

  get(token: string): TokenPrincipal | undefined {
    return this.#entries.get(token)
  }

  set(token: string, principal: TokenPrincipal): void {
    if (this.capacity === 0) return
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(token, principal)
  }

  delete(token: string): void {
    this.#entries.delete(token)
  }
}
