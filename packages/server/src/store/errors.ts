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
  constructor(readonly code: StoreErrorCode, message: string) {
    super(message)
    this.name = 'StoreError'
  }
}
