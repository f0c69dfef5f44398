import type { Socket } from 'node:net'
import { VoxgateError } from '@voxgate/protocol'
import { requestId } from '../ids.ts'

/** Failures Node finds before a request exists (its timeouts, unparsable HTTP), in our catalogue. */
function coded(err: NodeJS.ErrnoException): VoxgateError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new VoxgateError('request_timeout', 'The request did not arrive in time.')
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return new VoxgateError('headers_too_large', 'The request headers are larger than the server accepts.')
  return new VoxgateError('invalid_request', 'The request is not valid HTTP/1.1.')
}

/**
 * Fastify's `clientErrorHandler`: Node found a broken or late request (headers or whole request past
 * their timeout, headers too large, bad HTTP). Answer in Cartesia's error shape, then close.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  if (socket.writable) {
    const error = coded(err)
    const body = JSON.stringify(error.toBody(requestId()))
    socket.write(
      `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
}
