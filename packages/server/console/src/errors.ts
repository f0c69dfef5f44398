import { ApiError } from './api.ts'
import { h } from './dom.ts'

/** An API failure as the operator needs it: the `error_code`, then the message. */
export function errorBox(err: unknown): HTMLElement {
  // The client SDK's errors carry the server's error_code as `serverCode` (or a code of its own).
  const sdk = err as { serverCode?: string; code?: unknown; message?: string }
  const code = sdk.serverCode ?? (typeof sdk.code === 'string' ? sdk.code : 'client_error')
  const e = err instanceof ApiError ? err : new ApiError(0, code, sdk.message ?? String(err))
  return h('p', { class: 'error', role: 'alert' }, h('code', {}, e.code), ` ${e.message}`)
}

/** Runs an async action, showing its failure in `where` (emptied first). */
export async function attempt(where: HTMLElement, action: () => Promise<void>): Promise<void> {
  where.replaceChildren()
  try {
    await action()
  } catch (err) {
    where.replaceChildren(errorBox(err))
  }
}

/** The answer of a page whose route this server does not have (a later voxgate adds it). */
export function notAvailable(what: string): HTMLElement {
  return h('p', { class: 'empty' }, `${what} is not available on this server (its route answers 404).`)
}

export const isNotFound = (err: unknown): boolean =>
  err instanceof ApiError && err.status === 404 && err.code === 'not_found'
