import type { Clock } from '../../src/index.ts'

interface Timer {
  id: number
  at: number
  fn: () => void
}

/** A controlled clock: time moves only when the test says so, and timers fire in order. */
export class FakeClock implements Clock {
  mono = 10_000
  wall: number
  readonly delays: number[] = []
  #timers: Timer[] = []
  #nextId = 1

  /** `skewSeconds` puts the local wall clock ahead (+) or behind (-) the server's. */
  constructor(
    readonly serverStartSeconds = 1_800_000_000,
    skewSeconds = 0,
  ) {
    this.wall = (serverStartSeconds + skewSeconds) * 1000
  }

  /** Server time (unix seconds) now, which the fake backend uses; independent of the local skew. */
  serverSeconds(): number {
    return this.serverStartSeconds + (this.mono - 10_000) / 1000
  }

  now = (): number => this.mono
  wallNow = (): number => this.wall
  random = (): number => 0.5

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#nextId++
    this.delays.push(ms)
    this.#timers.push({ id, at: this.mono + ms, fn })
    return id
  }

  clearTimeout = (id: unknown): void => {
    this.#timers = this.#timers.filter((t) => t.id !== id)
  }

  get pendingTimers(): number {
    return this.#timers.length
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle between. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms
    await settle()
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at)
      const next = this.#timers[0]
      if (!next || next.at > end) break
      this.#timers.shift()
      this.#move(next.at)
      next.fn()
      await settle()
    }
    this.#move(end)
    await settle()
  }

  #move(to: number): void {
    this.wall += to - this.mono
    this.mono = to
  }
}

/** Lets every queued promise callback run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
}
