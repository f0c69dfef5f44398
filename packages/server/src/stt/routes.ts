import multipart from '@fastify/multipart'
import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { SttContext } from '../stt/service.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { transcribeUpload } from './batch.ts'
import { MAX_FIELD_BYTES, MAX_FIELDS } from './multipart.ts'

/**
 * The STT HTTP routes, in their own scope so multipart parsing (and its limits) exists only where uploads go.
 * The WebSockets are upgrades (stt/upgrade.ts); a plain GET on their paths gets the same credential
 * check and then a 400.
 */
export function registerSttRoutes(app: FastifyInstance, ctx: SttContext, guard: Guard): void {
  app.register(async (scope) => {
    await registerUploadParsing(scope, ctx)
    scope.post('/stt', uploadRouteOptions(ctx, guard), (request) => {
      const principal = principalOf(request)
      return ctx.refusals.counting(principal, () => transcribeUpload(ctx, request, principal))
    })
    for (const path of ['/stt/websocket', '/stt/turns/websocket']) {
      scope.get(path, { onRequest: guard({ grant: 'stt' }) }, async () => {
        throw new VoxgateError('invalid_request', 'This endpoint speaks WebSocket; send an Upgrade request.')
      })
    }
  })
}

/**
 * Multipart parsing with the STT upload's limits, for a route scope that takes audio uploads (this
 * one, and the OpenAI-compatible transcription routes').
 */
export async function registerUploadParsing(scope: FastifyInstance, ctx: SttContext): Promise<void> {
  await scope.register(multipart, {
    limits: {
      fileSize: ctx.config.sttUploadLimitBytes,
      files: 1,
      fields: MAX_FIELDS,
      fieldSize: MAX_FIELD_BYTES,
      parts: MAX_FIELDS + 1,
      headerPairs: 50,
    },
  })
}

/** An audio upload route's options: the `stt` grant, and a body limit of the upload plus its form's fields. */
export const uploadRouteOptions = (ctx: SttContext, guard: Guard) => ({
  onRequest: guard({ grant: 'stt' }),
  bodyLimit: ctx.config.sttUploadLimitBytes + 64 * 1024,
})
