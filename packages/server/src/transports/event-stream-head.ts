import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'

/**
 * Takes the response over from Fastify and sends the head of a server-sent event stream: the headers
 * already set on the reply (CORS, request id), never cached, never buffered by a proxy (nginx's
 * `x-accel-buffering`), so each event reaches the client as it is written;
 * `headers` adds the caller's own (a fallback's marker).
 */
export function startEventStream(reply: FastifyReply, headers: Record<string, string> = {}): ServerResponse {
  const res = reply.raw
  reply.hijack()
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    ...headers,
  })
  return res
}
