/**
 * The per-user revocation cutoffs this process has set (Unix seconds). voxgate revokes by
 * `iat < issued_before` and `iat` has whole-second precision, so a token minted in the same second as
 * a sign-out would be born revoked; the token route waits for that second to pass instead. (Another
 * instance of the app does not see this map; there the worst case is one refused token and a retry.)
 */
export class RevocationCutoffs {
  readonly #bySubject = new Map<string, number>()

  set(subject: string, cutoffSeconds: number): void {
    this.#bySubject.set(subject, Math.max(cutoffSeconds, this.#bySubject.get(subject) ?? 0))
  }

  /** Resolves once `now()` has reached the subject's cutoff (at most about a second). */
  async waitPast(subject: string, now: () => number): Promise<void> {
    const cutoff = this.#bySubject.get(subject)
    if (cutoff === undefined) return
    // A timer may fire a little before the wall clock has moved as far (timers run on a cached,
    // monotonic clock), so check again rather than trust one sleep; three tries bound a frozen clock.
    for (let tries = 0; tries < 3 && now() < cutoff * 1000; tries++) {
      const waitMs = cutoff * 1000 - now() + 1
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 2000)))
    }
    this.#bySubject.delete(subject)
  }
}
