import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { Charge } from '../quotas/meter.ts'
import type { AudioUsage } from './usage.ts'

/** Audio a stream reserves at a time: one store write per minute of audio, never one per frame. */
export const AUDIO_BLOCK_MS = 60_000
/** Below this much reserved audio left, the next block is reserved in the background. */
const LOW_WATER_MS = 30_000

/**
 * The audio one STT stream may still send, reserved from its token's budget in blocks so that frames
 * (every ~100 ms) are metered in memory, synchronously, in order. The next block is reserved while
 * half a minute is still in hand, so a client sending in real time never waits for the store; one
 * that outruns even that is cut off (it is also far past the recognition backlog cap). What is left
 * of the last block goes back when the stream ends.
 */
export class AudioAllowance {
  #ms = 0
  /** Milliseconds metered so far (the ledger's "transcribed"). */
  #used = 0
  #topUp: Promise<void> | undefined
  /** Why no more audio can be reserved: the budget is spent, or the store failed. */
  #stop: VoxgateError | undefined
  #closed = false
  /** The counters of the latest block, where what is left goes back. */
  #charge: Charge = []

  private constructor(
    private readonly usage: AudioUsage,
    private readonly principal: Principal,
  ) {}

  /** Reserves the first block; throws quota_exceeded when the budget has nothing left. */
  static async open(usage: AudioUsage, principal: Principal): Promise<AudioAllowance> {
    const allowance = new AudioAllowance(usage, principal)
    if (usage.metered(principal)) {
      const first = await usage.reserve(principal, AUDIO_BLOCK_MS, true)
      allowance.#ms = first.ms
      allowance.#charge = first.charge
    }
    return allowance
  }

  /** Meters one frame: nothing to do, or the error that must end the stream. */
  take(seconds: number): VoxgateError | undefined {
    const ms = seconds * 1000
    if (!this.usage.metered(this.principal)) {
      this.#used += ms
      return undefined
    }
    if (this.#ms < ms) {
      if (this.#stop) return this.#stop
      this.#refill()
      return new VoxgateError('rate_limited', 'Audio is arriving faster than it can be metered; send it in real time.')
    }
    this.#ms -= ms
    this.#used += ms
    if (this.#ms < LOW_WATER_MS) this.#refill()
    return undefined
  }

  #refill(): void {
    if (this.#topUp || this.#stop || this.#closed) return
    this.#topUp = this.usage
      .reserve(this.principal, AUDIO_BLOCK_MS, true)
      .then(
        (r) => {
          if (this.#closed) return this.usage.refund(r.charge, r.ms)
          this.#ms += r.ms
          this.#charge = r.charge
        },
        (err: unknown) => {
          this.#stop =
            err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'Audio could not be metered.')
        },
      )
      .finally(() => {
        this.#topUp = undefined
      })
  }

  /** Settles the stream: the ledger gets the audio metered, what is left of the reservation goes back. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.usage.settle(this.principal, this.#used, this.#charge, Math.floor(this.#ms))
    this.#ms = 0
  }
}
