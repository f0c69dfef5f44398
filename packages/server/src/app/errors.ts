import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { VoxgateError, type ErrorCode } from '@voxgate/protocol'
import { clientFacing, isStoreOutage, StoreError } from '../store/errors.ts'
import { errorBody } from '../gateway/errors.ts'
import { isOpenAiPath, openAiErrorBody } from '../openai/errors.ts'

/** RFC 6750 §3: 401s and 403s tell a Bearer client what went wrong. */
function authenticateHeader(err: VoxgateError): string | undefined {
  if (err.status === 401) return 'Bearer error="invalid_token"'
  if (err.code === 'insufficient_scope' || err.code === 'api_key_required') return 'Bearer error="insufficient_scope"'
  return undefined
}

/** Fastify's own failures (parsing, limits) mapped onto our catalogue. Messages are ours, not theirs. */
const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'The request body is larger than the server accepts.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'Send the request body as application/json.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_request', 'The request body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_request', 'The request body is not valid JSON.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid_request', 'The Content-Length does not match the body.'],
}

export function toVoxgateError(thrown: unknown): VoxgateError {
  const err = clientFacing(thrown)
  if (err instanceof VoxgateError) return err
  const fe = err as Partial<FastifyError>
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined
  if (mapped) return new VoxgateError(mapped[0], mapped[1])
  if (err instanceof SyntaxError || fe.statusCode === 400)
    return new VoxgateError('invalid_request', 'The request body is not valid JSON.')
  return new VoxgateError('internal_error', 'The server failed to handle the request.')
}

/** Sends any failure in Cartesia's error shape (OpenAI's on `/v1/*`), with `Content-Type: application/json`. */
export function sendError(reply: FastifyReply, err: VoxgateError): FastifyReply {
  const www = authenticateHeader(err)
  if (www) reply.header('www-authenticate', www)
  for (const [name, value] of Object.entries(err.headers)) reply.header(name, value)
  const id = reply.request.id
  const body = isOpenAiPath(reply.request.url) ? openAiErrorBody(err, id) : errorBody(err, id)
  return reply.code(err.status).type('application/json').send(body)
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const coded = toVoxgateError(err)
  if (coded.code === 'internal_error') request.log.error({ err }, 'unhandled error')
  // The operator needs the store's own reason (already free of secrets); the client gets the code. An
  // outage is in the store's fault log (once per period, with counts), not a line per request.
  if (err instanceof StoreError && !isStoreOutage(err))
    request.log.warn({ store_error: err.code, reason: err.message }, 'store error')
  return sendError(reply, coded)
}
