import type { Clock } from '../../src/clock.ts'

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  #ms: number
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#ms = startMs
  }
  now(): number {
    return this.#ms
  }
  advance(ms: number): void {
    this.#ms += ms
  }
  set(ms: number): void {
    this.#ms = ms
  }
}
