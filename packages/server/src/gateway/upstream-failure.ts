import { VoxgateError } from '@voxgate/protocol'
import { UpstreamRefusal, UpstreamServerError, UpstreamUnauthorized } from './errors.ts'

/**
 * Why the upstream failed the gateway, as the circuit breaker counts it and the fallback names it
 * (the `reason` label of `voxgate_upstream_fallbacks_total`). A failure is the upstream's or the
 * network's, never the client's: a 400, 404 or 422 proves the upstream is up and answering.
 */
export type UpstreamFailureReason =
  | 'unreachable'
  | 'timeout'
  | 'server_error'
  | 'rate_limited'
  | 'unauthorized'
  | 'circuit_open'

export const UPSTREAM_FAILURE_REASONS: readonly UpstreamFailureReason[] = [
  'unreachable',
  'timeout',
  'server_error',
  'rate_limited',
  'unauthorized',
  'circuit_open',
]

/**
 * The circuit is open (or another instance is probing it): the upstream is not called. Without
 * `--fallback` the client gets 502 `upstream_unavailable` with `Retry-After`: when to try again.
 */
export class UpstreamCircuitOpen extends VoxgateError {
  constructor(readonly retryAfterSeconds: number) {
    super('upstream_unavailable', 'The upstream is failing; the gateway is not calling it for now.', {
      'retry-after': String(retryAfterSeconds),
    })
    this.name = 'UpstreamCircuitOpen'
  }
}

/** The reason `err` is an upstream failure, or undefined when it is not one (the client's own refusal, a cancel). */
export function upstreamFailureReason(err: unknown): UpstreamFailureReason | undefined {
  if (err instanceof UpstreamCircuitOpen) return 'circuit_open'
  if (err instanceof UpstreamRefusal) return err.status === 429 ? 'rate_limited' : undefined
  if (err instanceof UpstreamUnauthorized) return 'unauthorized'
  if (err instanceof UpstreamServerError) return err.upstreamStatus >= 500 ? 'server_error' : undefined
  if (!(err instanceof VoxgateError)) return undefined
  if (err.code === 'upstream_unavailable') return 'unreachable'
  if (err.code === 'upstream_timeout') return 'timeout'
  return undefined
}

/**
 * What a call's outcome says about the upstream: it failed, it answered (a success, or a refusal of
 * the client's request: either way it is up), or nothing (the client went away first).
 */
export function upstreamOutcome(err: unknown): 'failure' | 'answered' | 'unknown' {
  if (upstreamFailureReason(err) !== undefined) return 'failure'
  if (err instanceof UpstreamRefusal || err instanceof UpstreamServerError) return 'answered'
  return 'unknown'
}
