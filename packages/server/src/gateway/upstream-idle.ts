import { VoxgateError } from '@voxgate/protocol'

/** The terminal error of a relay whose upstream went quiet while voxgate waited for it. */
export const idleError = (ms: number): VoxgateError =>
  new VoxgateError('upstream_timeout', `The upstream sent nothing for ${Math.round(ms / 1000)} s.`)

/**
 * The idle limit between upstream chunks (`upstreamIdleMs`): `wait()` starts (or restarts) the clock
 * when voxgate waits for the upstream's next output, `hold()` stops it when it does not (a slow
 * client holds the relay, or nothing is owed). `onIdle` runs once the clock reaches the limit, unless
 * `blocked()` then says the relay is held by its client, in which case the clock starts again.
 */
export class UpstreamIdle {
  #timer: NodeJS.Timeout | undefined

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
    private readonly blocked: () => boolean = () => false,
  ) {}

  wait(): void {
    clearTimeout(this.#timer)
    // No limit (a relay not given one); setTimeout would take Infinity as 1 ms.
    if (!Number.isFinite(this.ms)) return
    this.#timer = setTimeout(() => (this.blocked() ? this.wait() : this.onIdle()), this.ms)
    this.#timer.unref()
  }

  hold(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
