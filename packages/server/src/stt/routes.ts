import multipart from '@fastify/multipart'
import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { ServerContext } from '../context.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { transcribeUpload } from './batch.ts'
import { serveTranscription } from '../openai/transcriptions.ts'
import { MAX_FIELD_BYTES, MAX_FIELDS } from './multipart.ts'

/**
 * The STT HTTP routes, in their own scope so multipart parsing (and its limits) exists only here.
 * The WebSockets are upgrades (stt/upgrade.ts); a plain GET on their paths gets the same credential
 * check and then a 400.
 */
export function registerSttRoutes(app: FastifyInstance, ctx: ServerContext, guard: Guard): void {
  app.register(async (scope) => {
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
    const opts = { onRequest: guard({ grant: 'stt' }), bodyLimit: ctx.config.sttUploadLimitBytes + 64 * 1024 }
    scope.post('/stt', opts, (request) => {
      const principal = principalOf(request)
      return ctx.refusals.counting(principal, () => transcribeUpload(ctx, request, principal))
    })
    // OpenAI's path, with and without its /v1 prefix: OpenAI's response formats and stream.
    for (const path of ['/audio/transcriptions', '/v1/audio/transcriptions']) {
      scope.post(path, opts, (request, reply) => {
        const principal = principalOf(request)
        return ctx.refusals.counting(principal, () => serveTranscription(ctx, principal, request, reply))
      })
    }
    for (const path of ['/stt/websocket', '/stt/turns/websocket']) {
      scope.get(path, { onRequest: guard({ grant: 'stt' }) }, async () => {
        throw new VoxgateError('invalid_request', 'This endpoint speaks WebSocket; send an Upgrade request.')
      })
    }
  })
}
