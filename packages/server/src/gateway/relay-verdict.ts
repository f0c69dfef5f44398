import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CircuitTicket } from './circuit-breaker.ts'

/**
 * Tells the circuit breaker how a relayed HTTP answer went, at the moment it is known: the upstream
 * sent it whole (an answer), cut it or was destroyed for idling (a failure), or the client broke it
 * first (it left, or its stream was aborted: revocation), which says nothing of the upstream. A
 * broken pipe destroys both ends, so only the order tells whose fault it was; the first word stands.
 * Reported before the client can see the cut, so its next request meets the circuit as it now is.
 */
export function watchRelay(
  upstream: IncomingMessage,
  client: ServerResponse,
  signal: AbortSignal,
  circuit: CircuitTicket,
): void {
  let settled = false
  const settle = (report: () => void) => {
    if (settled) return
    settled = true
    report()
  }
  upstream.once('end', () => settle(() => circuit.answered()))
  // A reset or cut body ('aborted'), or the idle limit's own error.
  upstream.once('error', () => settle(() => circuit.failed()))
  client.once('close', () => {
    if (!client.writableFinished) settle(() => circuit.abandoned())
  })
  if (signal.aborted) settle(() => circuit.abandoned())
  else signal.addEventListener('abort', () => settle(() => circuit.abandoned()), { once: true })
}
