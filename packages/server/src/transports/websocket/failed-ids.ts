/** Context ids remembered as ended with an error, per socket (the oldest are forgotten first). */
export const MAX_FAILED_CONTEXT_IDS = 1024

/**
 * The context ids of one TTS socket, local or relayed, whose life ended with an `error`: the client
 * was told, so later messages for them are ignored without an event. Bounded, oldest forgotten first.
 */
export class FailedIds {
  readonly #ids = new Set<string>()

  has(id: string): boolean {
    return this.#ids.has(id)
  }

  add(id: string): void {
    this.#ids.add(id)
    if (this.#ids.size > MAX_FAILED_CONTEXT_IDS) this.#ids.delete(this.#ids.values().next().value as string)
  }
}
