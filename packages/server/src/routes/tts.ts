import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { TtsBytesRequest, TtsSseRequest } from '@voxgate/protocol/schemas'
import type { ServerContext } from '../context.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { serveBytes } from '../transports/bytes.ts'
import { serveSse } from '../transports/sse.ts'

export function registerTtsRoutes(app: FastifyInstance, ctx: ServerContext, guard: Guard): void {
  const opts = { onRequest: guard({ grant: 'tts' }) }
  app.post('/tts/bytes', opts, (request, reply) => {
    const principal = principalOf(request)
    return ctx.refusals.counting(principal, () =>
      serveBytes(ctx, principal, reply, parseOr400(TtsBytesRequest, request.body)),
    )
  })
  app.post('/tts/sse', opts, (request, reply) => {
    const principal = principalOf(request)
    return ctx.refusals.counting(principal, () =>
      serveSse(ctx, principal, request, reply, parseOr400(TtsSseRequest, request.body)),
    )
  })
  // A WebSocket upgrade never reaches Fastify (server.ts hands it to the WebSocket transport); a
  // plain GET does, after the same credential check.
  app.get('/tts/websocket', opts, async () => {
    throw new VoxgateError('invalid_request', 'This endpoint speaks WebSocket; send an Upgrade request.')
  })
}
