import { ApiError, SignedOutError, TokenBackendError, VoxgateClientError } from './errors.ts'
import { sleep, systemClock, type Clock } from './lib/clock.ts'
import { lifetimeMs, parseAnswer, type TokenAnswer } from './lib/token-answer.ts'
import { assertSecureUrl } from './safety.ts'

export type { TokenAnswer } from './lib/token-answer.ts'
export type { Clock } from './lib/clock.ts'

/** Options of a {@link TokenSource}. Give exactly one of `endpoint` and `fetchToken`. */
export interface TokenSourceOptions {
  /** The app backend's token route (POST, JSON), usually relative to the page: `'/api/voice-token'`. */
  endpoint?: string | URL
  /** Or a callback that asks the app backend itself. */
  fetchToken?: () => Promise<TokenAnswer>
  /**
   * `'memory'`: the backend answers `{token, expires_at}` and the token is held in memory only.
   * `'cookie'`: the backend answers `{expires_at}` and sets the token as an HttpOnly cookie.
   * @default 'memory'
   */
  mode?: 'memory' | 'cookie'
  /** JSON body POSTed to `endpoint` (for example the grants the page needs). @default {} */
  body?: unknown
  /** Credentials mode of the backend call; the backend authorizes it with its own session cookie. @default 'same-origin' */
  credentials?: RequestCredentials
  /** Refresh once this fraction of the token's lifetime has passed. @default 0.75 */
  refreshAt?: number
  /** Refresh in the background before expiry even when nothing is being spoken. @default true */
  autoRefresh?: boolean
  /** Retries after a failed backend call (5xx, 408, 429, network). @default 4 */
  retries?: number
  /** First backoff delay; doubles per retry, with jitter. @default 500 */
  backoffMs?: number
  /** Backoff ceiling. @default 8000 */
  maxBackoffMs?: number
  /** Called once when the backend says the user is signed out. */
  onSignedOut?: (err: SignedOutError) => void
  /** @default globalThis.fetch */
  fetch?: typeof fetch
  /** Injectable time, for tests. @default the system clock */
  clock?: Partial<Clock>
}

interface Held {
  seq: number
  receivedMono: number
  receivedWall: number
  lifetimeMs: number
}

type Freshness = 'fresh' | 'stale' | 'unusable'

/**
 * Gets access tokens from the app's own backend and keeps one fresh. The token lives in a private
 * field: it is never stored, logged or put in an error, and only `withToken` hands it out.
 * @example
 * const tokens = new TokenSource({ endpoint: '/api/voice-token' })
 * const client = new VoxgateClient({ baseUrl: 'https://voice.example.com', tokens })
 */
export class TokenSource {
  readonly mode: 'memory' | 'cookie'
  readonly #opts: TokenSourceOptions
  readonly #clock: Clock
  readonly #fetch: typeof fetch
  readonly #endpoint: URL | undefined
  #token: string | undefined
  #held: Held | undefined
  #pending: Promise<void> | undefined
  #seq = 0
  #epoch = 0
  #signedOut: SignedOutError | undefined
  #timer: unknown
  #closed = false
  readonly #listeners = new Set<() => void>()

  constructor(options: TokenSourceOptions) {
    if ((options.endpoint === undefined) === (options.fetchToken === undefined))
      throw new TypeError('TokenSource needs exactly one of endpoint and fetchToken')
    const refreshAt = options.refreshAt ?? 0.75
    if (!(refreshAt > 0 && refreshAt < 1)) throw new TypeError('refreshAt must be between 0 and 1')
    this.mode = options.mode ?? 'memory'
    this.#opts = options
    this.#clock = { ...systemClock, ...options.clock }
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    if (options.endpoint !== undefined) {
      const base = (globalThis as { location?: { href: string } }).location?.href
      this.#endpoint = new URL(options.endpoint, base)
      assertSecureUrl(this.#endpoint)
    }
  }

  /**
   * Runs `fn` with a fresh credential (the token in memory mode, `undefined` in cookie mode). If
   * `fn` fails with a 401 from the voice API (or `retryIf` says so), refreshes once and retries once.
   * @example
   * const res = await tokens.withToken((t) => fetch(url, { headers: { authorization: `Bearer ${t}` } }))
   */
  async withToken<T>(fn: (token: string | undefined) => Promise<T>, retryIf?: (err: unknown) => boolean): Promise<T> {
    const seq = await this.#fresh()
    try {
      return await fn(this.#token)
    } catch (err) {
      const rejected = err instanceof ApiError ? err.isUnauthorized : retryIf?.(err) === true
      if (!rejected) throw err
      await this.#replace(seq)
      return fn(this.#token)
    }
  }

  /** Makes sure a fresh credential is held (fetching one if needed). @example await tokens.ready() */
  async ready(): Promise<void> {
    await this.#fresh()
  }

  /**
   * Fetches a new token now, superseding any refresh in flight (its late answer is discarded).
   * @example await tokens.refresh()
   */
  refresh(): Promise<void> {
    const p = this.#fetchLoop(++this.#seq, this.#epoch)
    this.#pending = p
    void p.then(
      () => this.#clearPending(p),
      () => this.#clearPending(p),
    )
    return p
  }

  /** After the user signed in again: forget the sign-out and fetch on next use. @example tokens.signedIn() */
  signedIn(): void {
    this.#signedOut = undefined
    this.#closed = false
    this.#forget()
  }

  /** Forgets the token and stops refreshing (for example when the app signs out). @example tokens.close() */
  close(): void {
    this.#closed = true
    this.#forget()
  }

  /** `'empty' | 'fresh' | 'stale' | 'expired' | 'signed-out'`: for display and tests, never the token. */
  get status(): 'empty' | 'fresh' | 'stale' | 'expired' | 'signed-out' {
    if (this.#signedOut) return 'signed-out'
    if (!this.#held) return 'empty'
    const f = this.#freshness()
    return f === 'unusable' ? 'expired' : f
  }

  /** Redacted, so that logging the source never logs a token. */
  toJSON(): { mode: string; status: string } {
    return { mode: this.mode, status: this.status }
  }

  /** @internal Called after every new token; returns an unsubscribe function. */
  onToken(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #forget(): void {
    this.#epoch += 1
    this.#token = undefined
    this.#held = undefined
    this.#pending = undefined
    this.#clock.clearTimeout(this.#timer)
  }

  #elapsed(h: Held): number {
    // Both clocks measure time SINCE the answer arrived; the larger wins, so neither a skewed wall
    // clock (it cancels out) nor a monotonic clock paused during sleep makes us hold a token too long.
    return Math.max(this.#clock.now() - h.receivedMono, this.#clock.wallNow() - h.receivedWall)
  }

  #freshness(): Freshness {
    const h = this.#held
    if (!h) return 'unusable'
    const elapsed = this.#elapsed(h)
    const refreshAt = h.lifetimeMs * (this.#opts.refreshAt ?? 0.75)
    if (elapsed < refreshAt) return 'fresh'
    // Between the refresh point and half-way to expiry the old token still serves while a new one comes.
    return elapsed < refreshAt + (h.lifetimeMs - refreshAt) / 2 ? 'stale' : 'unusable'
  }

  /** Resolves with the sequence number of the token that callers should use. */
  async #fresh(): Promise<number> {
    for (let round = 0; round < 3; round++) {
      if (this.#signedOut) throw this.#signedOut
      const f = this.#freshness()
      if (f !== 'unusable' && this.#held) {
        if (f === 'stale') this.#join().catch(() => undefined)
        return this.#held.seq
      }
      try {
        await this.#join()
      } catch (err) {
        if (this.#freshness() === 'unusable') throw err
      }
      // Whatever was applied last is the newest token; accept it even if its lifetime is tiny.
      if (this.#held && !this.#signedOut) return this.#held.seq
    }
    throw (
      this.#signedOut ?? new VoxgateClientError('ERR_ABORTED', 'The token source was reset while waiting for a token.')
    )
  }

  #join(): Promise<void> {
    return this.#pending ?? this.refresh()
  }

  #clearPending(p: Promise<void>): void {
    if (this.#pending === p) this.#pending = undefined
  }

  /** The token numbered `seq` was refused: replace it once (or join a newer refresh already under way). */
  async #replace(seq: number): Promise<void> {
    if (this.#held?.seq === seq) this.#held = undefined
    if (this.#held === undefined) await (this.#pending && this.#seq > seq ? this.#pending : this.refresh())
    if (this.#signedOut) throw this.#signedOut
  }

  async #fetchLoop(seq: number, epoch: number): Promise<void> {
    const retries = this.#opts.retries ?? 4
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new VoxgateClientError('ERR_ABORTED', 'The token source was closed.')
      try {
        return this.#apply(seq, epoch, await this.#fetchOnce())
      } catch (err) {
        if (err instanceof SignedOutError) return this.#signOut(err, epoch)
        const retryable = err instanceof VoxgateClientError && err.retryable
        if (!retryable || attempt >= retries) throw err
      }
      const cap = Math.min(this.#opts.maxBackoffMs ?? 8000, (this.#opts.backoffMs ?? 500) * 2 ** attempt)
      await sleep(this.#clock, cap / 2 + (cap / 2) * this.#clock.random())
      if (epoch !== this.#epoch) throw new VoxgateClientError('ERR_ABORTED', 'The token source was reset.')
    }
  }

  async #fetchOnce(): Promise<{ answer: TokenAnswer; dateSeconds?: number }> {
    if (this.#opts.fetchToken) return { answer: parseAnswer(await this.#callback(this.#opts.fetchToken), this.mode) }
    let res: Response
    try {
      res = await this.#fetch(this.#endpoint as URL, {
        method: 'POST',
        credentials: this.#opts.credentials ?? 'same-origin',
        cache: 'no-store',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(this.#opts.body ?? {}),
      })
    } catch (cause) {
      throw new TokenBackendError(
        'ERR_TOKEN_BACKEND',
        'The token backend could not be reached.',
        true,
        undefined,
        cause,
      )
    }
    if (res.status === 401 || res.status === 403) throw new SignedOutError(res.status)
    if (!res.ok) {
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429
      throw new TokenBackendError(
        'ERR_TOKEN_BACKEND',
        `The token backend answered ${res.status}.`,
        retryable,
        res.status,
      )
    }
    const body: unknown = await res.json().catch(() => undefined)
    const date = Date.parse(res.headers.get('date') ?? '')
    return { answer: parseAnswer(body, this.mode), ...(Number.isFinite(date) && { dateSeconds: date / 1000 }) }
  }

  async #callback(fetchToken: () => Promise<TokenAnswer>): Promise<TokenAnswer> {
    try {
      return await fetchToken()
    } catch (cause) {
      if (cause instanceof VoxgateClientError) throw cause
      throw new TokenBackendError('ERR_TOKEN_BACKEND', 'The fetchToken callback failed.', true, undefined, cause)
    }
  }

  #apply(seq: number, epoch: number, got: { answer: TokenAnswer; dateSeconds?: number }): void {
    // The sequence guard: a slow old answer never replaces a newer token.
    if (epoch !== this.#epoch || (this.#held && this.#held.seq > seq)) return
    const now = this.#clock.now()
    const wall = this.#clock.wallNow()
    this.#token = got.answer.token
    this.#held = {
      seq,
      receivedMono: now,
      receivedWall: wall,
      lifetimeMs: lifetimeMs(got.answer, got.dateSeconds, wall),
    }
    this.#schedule(this.#held)
    for (const listener of this.#listeners) listener()
  }

  #schedule(h: Held): void {
    this.#clock.clearTimeout(this.#timer)
    if (this.#opts.autoRefresh === false || this.#closed) return
    const delay = h.lifetimeMs * (this.#opts.refreshAt ?? 0.75)
    this.#timer = this.#clock.setTimeout(() => {
      if (this.#held === h && !this.#pending) this.refresh().catch(() => undefined)
    }, delay)
  }

  #signOut(err: SignedOutError, epoch: number): never {
    if (epoch === this.#epoch && !this.#signedOut) {
      this.#forget()
      this.#signedOut = err
      this.#opts.onSignedOut?.(err)
    }
    throw this.#signedOut ?? err
  }
}
