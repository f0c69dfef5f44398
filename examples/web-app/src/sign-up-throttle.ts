import { FixedWindowLimiter, type RateLimit } from '@voxgate/app-kit'
import { throttleKeyOf } from './sign-in-throttle.ts'

export interface SignUpLimits {
  perAddress: RateLimit
}

/**
 * Sign-ups per client address. Each one costs a password hash, so it counts the moment it starts (a
 * parallel burst cannot overshoot), and it is never given back, not even when it makes an account:
 * a refund only for new emails would tell who has an account here.
 */
export class SignUpThrottle {
  readonly #addresses: FixedWindowLimiter

  constructor(limits: SignUpLimits, now: () => number) {
    this.#addresses = new FixedWindowLimiter({ ...limits.perAddress, now })
  }

  /** 0 and the sign-up is counted, or the seconds to wait (`Retry-After`) and nothing is counted. */
  begin(address: string | undefined): number {
    return this.#addresses.take(throttleKeyOf(address))
  }
}
