import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { RevocationList } from '../auth/revocations.ts'

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
 * ends streams whose token or key has been revoked. (Characters budgets are budgets.ts's.)
 */
export class StreamRegistry {
  readonly #open = new Set<OpenStream>()
  readonly #perToken = new Map<string, number>()

  constructor(private readonly revocations: RevocationList) {}

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

  openStreams(jti: string): number {
    return this.#perToken.get(jti) ?? 0
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
