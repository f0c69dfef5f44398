import type { FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { requestId } from '../ids.ts'
import type { AuditActor, AuditOrigin } from '../store/audit-types.ts'

/**
 * The origin of a change made over HTTP: the calling API key, or the console session standing in for
 * one (actor `console`, with the key that signed in; none for a session a one-time link started),
 * and the request's id and address.
 */
export function requestOrigin(request: FastifyRequest): AuditOrigin {
  const p = request.principal
  // The route table lets only API keys reach a change; a change without one is a wiring mistake.
  if (p?.kind !== 'api_key') throw new VoxgateError('internal_error', 'a change was made without an API key')
  const actor: AuditActor = p.console
    ? { type: 'console', ...(p.console.keyId !== null && { keyId: p.console.keyId }) }
    : { type: 'api_key', keyId: p.keyId }
  return { actor, requestId: request.id, ip: request.ip }
}

/** The origin of a change made by a CLI command against the store: one made-up request id per command. */
export const cliOrigin = (): AuditOrigin => ({ actor: { type: 'cli' }, requestId: requestId() })
