import type { FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { requestId } from '../ids.ts'
import type { AuditOrigin } from '../store/audit-types.ts'

/** The origin of a change made over HTTP: the calling API key, the request's id and address. */
export function requestOrigin(request: FastifyRequest): AuditOrigin {
  const p = request.principal
  // The route table lets only API keys reach a change; a change without one is a wiring mistake.
  if (p?.kind !== 'api_key') throw new VoxgateError('internal_error', 'a change was made without an API key')
  return { actor: { type: 'api_key', keyId: p.keyId }, requestId: request.id, ip: request.ip }
}

/** The origin of a change made by a CLI command against the store: one made-up request id per command. */
export const cliOrigin = (): AuditOrigin => ({ actor: { type: 'cli' }, requestId: requestId() })
