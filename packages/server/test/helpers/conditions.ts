/**
 * Conditions a test awaits on a fake server ("no connection open", "three requests seen"): each is
 * re-checked whenever the fake calls `changed()`, so a test waits for an event, never a timer.
 */
export class Conditions {
  #waiters: (() => boolean)[] = []

  /** Resolves once `check` holds. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise((resolve) => {
      this.#waiters.push(() => {
        if (!check()) return false
        resolve()
        return true
      })
    })
  }

  /** Something the conditions may read changed: re-checks them. */
  changed(): void {
    this.#waiters = this.#waiters.filter((w) => !w())
  }
}
