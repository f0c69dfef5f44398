import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { RevocationList } from '../auth/revocations.ts'
import { randomId } from '../ids.ts'
import { ConnectionTails } from './connection-tails.ts'
import type { SlotStore } from './slots.ts'

/** One open TTS stream: an HTTP bytes/SSE response or one WebSocket context. */
export interface StreamLease {
  /** Releases the stream's slot; idempotent. */
  release(): void
  /** The stream's first audio went out (metrics); absent when nothing observes streams. */
  firstAudio?: () => void
}

export type StreamTransport = 'bytes' | 'sse' | 'websocket' | 'stt'

/** Told as each stream opens (metrics); what it returns hears of its first audio and its end. */
export interface StreamObserver {
  opened(transport: StreamTransport): StreamObservation
}

export interface StreamObservation {
  firstAudio(): void
  closed(): void
}

interface OpenStream {
  principal: Principal
  /** Absent for a credential watched between streams (an idle WebSocket). */
  transport?: StreamTransport
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
  /** Streams holding a lease (not sockets merely watched between contexts). */
  #active = 0
  #draining = false
  /** HTTP streams whose response has gone to the connection, their last bytes perhaps still queued. */
  readonly tails = new ConnectionTails()

  constructor(
    private readonly revocations: RevocationList,
    private readonly slots: SlotStore,
    private readonly observer?: StreamObserver,
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

  /**
   * Opens a stream for a principal: a token with `limits.concurrent_streams` takes one of its slots
   * (counted across every instance when slots are in Redis) or gets 429 `concurrency_limited`.
   */
  async open(
    principal: Principal,
    onRevoked: OpenStream['onRevoked'],
    transport: StreamTransport,
  ): Promise<StreamLease> {
    if (this.#draining)
      throw new VoxgateError('connection_closing', 'This instance is shutting down; retry on another.', {
        'retry-after': '1',
      })
    const tokenId = principal.kind === 'token' ? principal.jti : undefined
    const limit = principal.kind === 'token' ? principal.limits?.concurrent_streams : undefined
    const leaseId = randomId('lease', 9)
    if (tokenId !== undefined && limit !== undefined && !(await this.slots.acquire(tokenId, limit, leaseId))) {
      throw new VoxgateError('concurrency_limited', `This access token may hold ${limit} stream(s) open at once.`, {
        'retry-after': '1',
      })
    }
    const stream: OpenStream = { principal, onRevoked, transport }
    this.#open.add(stream)
    this.#active += 1
    // A revocation that landed while the slot was being taken swept past this stream: check now.
    if (this.#revoked(principal)) queueMicrotask(() => onRevoked(revokedError()))
    if (tokenId !== undefined) this.#perToken.set(tokenId, (this.#perToken.get(tokenId) ?? 0) + 1)
    let released = false
    const observed = this.observer?.opened(transport)
    return {
      ...(observed && { firstAudio: () => observed.firstAudio() }),
      release: () => {
        if (released) return
        released = true
        observed?.closed()
        this.#open.delete(stream)
        this.#active -= 1
        if (tokenId === undefined) return
        if (limit !== undefined) this.slots.release(tokenId, leaseId)
        const left = (this.#perToken.get(tokenId) ?? 1) - 1
        if (left > 0) this.#perToken.set(tokenId, left)
        else this.#perToken.delete(tokenId)
      },
    }
  }

  /** Streams the token holds open: across the deployment for a limited token, else on this instance. */
  async openStreams(principal: Principal): Promise<number> {
    if (principal.kind !== 'token') return 0
    if (principal.limits?.concurrent_streams !== undefined) return this.slots.count(principal.jti)
    return this.#perToken.get(principal.jti) ?? 0
  }

  /** From now on no stream opens here (503 `connection_closing`); open ones may finish. */
  startDraining(): void {
    this.#draining = true
  }

  get draining(): boolean {
    return this.#draining
  }

  /** Resolves once every open stream has ended by itself, or after `waitMs`. */
  async waitForStreams(waitMs: number): Promise<void> {
    for (const deadline = Date.now() + waitMs; this.#active > 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /**
   * Ends every open stream with `error` (shutdown): each transport sends its terminal event. Resolves
   * once all have released their slots, or after `waitMs`.
   */
  async endAll(error: VoxgateError, waitMs: number): Promise<void> {
    this.tails.clear()
    for (const s of [...this.#open]) s.onRevoked(error)
    for (const deadline = Date.now() + waitMs; this.#open.size > 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  /** Ends every open stream whose credential has been revoked since it opened. */
  sweep(): void {
    for (const s of this.#open) if (this.#revoked(s.principal)) s.onRevoked(revokedError())
    this.tails.sweep((p) => this.#revoked(p), revokedError)
  }

  #revoked(p: Principal): boolean {
    return p.kind === 'token' ? this.revocations.isTokenRevoked(p) : this.revocations.isKeyRevoked(p.keyId)
  }

  /** The streams open here now, each as its transport, key and `sub` (the console's Overview). */
  openNow(): { transport: StreamTransport; keyId: string; sub: string | null }[] {
    const out: { transport: StreamTransport; keyId: string; sub: string | null }[] = []
    for (const s of this.#open)
      if (s.transport !== undefined)
        out.push({
          transport: s.transport,
          keyId: s.principal.keyId,
          sub: s.principal.kind === 'token' ? (s.principal.sub ?? null) : null,
        })
    return out
  }

  get size(): number {
    return this.#open.size
  }
}

const revokedError = (): VoxgateError =>
  new VoxgateError('token_revoked', 'The credential of this stream has been revoked.')
