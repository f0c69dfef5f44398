/**
 * What a start has opened so far, undone in reverse when a later step fails: a start that fails must
 * leave nothing behind (no speech worker, no store handle, no Redis client) so the process can exit.
 */
export class UndoStack {
  readonly #steps: (() => unknown)[] = []

  push(step: () => unknown): void {
    this.#steps.push(step)
  }

  /** Runs every step, newest first; a step that fails does not stop the others (the start error matters more). */
  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step()
      } catch {
        // Already failing: the caller reports the start error, not a second one from the clean-up.
      }
    }
  }
}
