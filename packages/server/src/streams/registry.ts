import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { RevocationList } from '../auth/revocations.ts'
import type { Clock } from '../clock.ts'

/** Above this many tracked tokens, usage of expired ones is dropped on the next charge. */
const USAGE_PRUNE_AT = 10_000

/** One open TTS stream: an HTTP bytes/SSE response or one WebSocket context. */
export interface StreamLease {
  /** Releases the stream's slot; idempotent. */
  release(): void
}

interface OpenStream {
  principal: Principal
  /** Told when the stream's credential stops being valid (revocation); it must end the stream. */
  onRevoked: (error: VoxgateError) => void
}

/**
 * Every open TTS stream of this process, by credential. It enforces `limits.concurrent_streams` and
 * the characters budget of tokens, and ends streams whose token or key has been revoked.
 */
export class StreamRegistry {
  readonly #open = new Set<OpenStream>()
  readonly #perToken = new Map<string, number>()
  /** Characters synthesized so far per token (jti), kept until the token has expired. */
  readonly #used = new Map<string, { characters: number; expiresAtSeconds: number }>()

  constructor(
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
  ) {}

  /**
   * Watches a credential without taking a stream slot (an open WebSocket between contexts):
   * `onRevoked` fires if it is revoked. Release to stop watching.
   */
  watch(principal: Principal, onRevoked: OpenStream['onRevoked']): StreamLease {
    const stream: OpenStream = { principal, onRevoked }
    this.#open.add(stream)
    return { release: () => void this.#open.delete(stream) }
  }

  open(principal: Principal, onRevoked: OpenStream['onRevoked']): StreamLease {
    const stream: OpenStream = { principal, onRevoked }
    const tokenId = principal.kind === 'token' ? principal.jti : undefined
    if (tokenId !== undefined && principal.kind === 'token') {
      const limit = principal.limits?.concurrent_streams
      const current = this.#perToken.get(tokenId) ?? 0
      if (limit !== undefined && current >= limit) {
        throw new VoxgateError('concurrency_limited', `This access token may hold ${limit} stream(s) open at once.`, { 'retry-after': '1' })
      }
      this.#perToken.set(tokenId, current + 1)
    }
    this.#open.add(stream)
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        this.#open.delete(stream)
        if (tokenId === undefined) return
        const left = (this.#perToken.get(tokenId) ?? 1) - 1
        if (left > 0) this.#perToken.set(tokenId, left)
        else this.#perToken.delete(tokenId)
      },
    }
  }

  /**
   * Reserves `characters` of the token's budget before they are spoken, or throws quota_exceeded
   * without reserving. What is never spoken is handed back with {@link refund}.
   */
  reserve(principal: Principal, characters: number): void {
    if (principal.kind !== 'token') return
    const budget = principal.limits?.characters
    const used = this.#used.get(principal.jti)?.characters ?? 0
    if (budget !== undefined && used + characters > budget) {
      throw new VoxgateError('quota_exceeded', `This access token's budget of ${budget} characters would be exceeded (${used} used).`, { 'x-should-retry': 'false' })
    }
    if (this.#used.size >= USAGE_PRUNE_AT) this.#pruneUsage()
    this.#used.set(principal.jti, { characters: used + characters, expiresAtSeconds: principal.expiresAtSeconds })
  }

  /** Returns reserved characters whose synthesis never started. */
  refund(principal: Principal, characters: number): void {
    if (principal.kind !== 'token' || characters <= 0) return
    const entry = this.#used.get(principal.jti)
    if (entry) entry.characters = Math.max(0, entry.characters - characters)
  }

  /** Usage of expired tokens can never be charged again: dropping it bounds the map by live tokens. */
  #pruneUsage(): void {
    const now = this.clock.now() / 1000
    for (const [jti, u] of this.#used) if (u.expiresAtSeconds < now - 60) this.#used.delete(jti)
  }

  openStreams(jti: string): number {
    return this.#perToken.get(jti) ?? 0
  }

  usedCharacters(jti: string): number {
    return this.#used.get(jti)?.characters ?? 0
  }

  /**
   * Ends every open stream with `error` (shutdown): each transport sends its terminal event. Resolves
   * once all have released their slots, or after `waitMs`.
   */
  async endAll(error: VoxgateError, waitMs: number): Promise<void> {
    for (const s of [...this.#open]) s.onRevoked(error)
    for (const deadline = Date.now() + waitMs; this.#open.size > 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  /** Ends every open stream whose credential has been revoked since it opened. */
  sweep(): void {
    for (const s of this.#open) {
      const p = s.principal
      const revoked = p.kind === 'token' ? this.revocations.isTokenRevoked(p) : this.revocations.isKeyRevoked(p.keyId)
      if (revoked) s.onRevoked(new VoxgateError('token_revoked', 'The credential of this stream has been revoked.'))
    }
  }

  get size(): number {
    return this.#open.size
  }
}
