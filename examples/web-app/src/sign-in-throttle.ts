import { addressKey, FixedWindowLimiter, takeAll, type RateLimit } from '@voxgate/app-kit'

export interface SignInLimits {
  perAccount: RateLimit
  perAddress: RateLimit
}

/**
 * Sign-in guesses, counted per account (the email, known or not, so the answer reveals nothing) and
 * per client address. Every attempt counts the moment it starts, so a burst of parallel guesses cannot
 * all slip through before the first failure is recorded; a successful sign-in is given back.
 */
export class SignInThrottle {
  readonly #accounts: FixedWindowLimiter
  readonly #addresses: FixedWindowLimiter

  constructor(limits: SignInLimits, now: () => number) {
    this.#accounts = new FixedWindowLimiter({ ...limits.perAccount, now })
    this.#addresses = new FixedWindowLimiter({ ...limits.perAddress, now })
  }

  /** 0 and the attempt is counted, or the seconds to wait (`Retry-After`) and nothing is counted. */
  begin(email: string, address: string | undefined): number {
    return takeAll([
      [this.#accounts, email],
      [this.#addresses, throttleKeyOf(address)],
    ])
  }

  /** The attempt succeeded: it does not count against the account or the address. */
  succeeded(email: string, address: string | undefined): void {
    this.#accounts.refund(email)
    this.#addresses.refund(throttleKeyOf(address))
  }
}

/** The key a client address is throttled under: IPv6 by /64; requests of no known address share one. */
export const throttleKeyOf = (address: string | undefined): string =>
  address === undefined ? 'unknown' : addressKey(address)
