import { VoxgateError } from '@voxgate/protocol'

/**
 * Why a store could not be opened or answered. Messages are one line, name the fix, and never hold a
 * secret: a store URL appears only redacted (store/url.ts), a key-encryption key never.
 */
export type StoreErrorCode =
  | 'bad_store_url'
  | 'store_unreachable'
  | 'store_unavailable'
  | 'kek_missing'
  | 'kek_invalid'
  | 'kek_wrong'

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'StoreError'
  }
}

/** The store did not answer (down, cut or past its deadline), as opposed to refusing a call. */
export const isStoreOutage = (err: unknown): boolean => err instanceof StoreError && err.code === 'store_unavailable'

/**
 * What a client is told when the store does not answer: 503 `store_unavailable`, retryable (never
 * the store's own message, which names hosts). Anything else passes through unchanged.
 */
export function clientFacing(err: unknown): unknown {
  if (isStoreOutage(err)) {
    return new VoxgateError('store_unavailable', 'The key store is unavailable; retry shortly.', { 'retry-after': '2' })
  }
  return err
}
