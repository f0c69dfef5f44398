import type { FastifyInstance } from 'fastify'
import type { ServerContext } from '../context.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { serveBytes } from '../transports/bytes.ts'
import { speechFormatOf } from './speech-formats.ts'
import { speechOutput } from './speech-output.ts'
import { checkInputLength, OpenAiSpeechRequest, toBytesRequest } from './speech-request.ts'
import { openAiModelList } from './model-list.ts'
import { registerUploadParsing, uploadRouteOptions } from '../stt/routes.ts'
import type { SttContext } from '../stt/service.ts'
import { serveTranscription } from './transcriptions.ts'

/**
 * OpenAI's speech route, at `/v1/audio/speech` (where OpenAI's SDKs post) and `/audio/speech`. It is
 * `/tts/bytes` in OpenAI's shape: the same grant, stream start, budget, limits, ledger and revocation.
 */
export function registerOpenAiSpeechRoutes(app: FastifyInstance, ctx: ServerContext, guard: Guard): void {
  const opts = { onRequest: guard({ grant: 'tts' }) }
  for (const path of ['/v1/audio/speech', '/audio/speech']) {
    app.post(path, opts, (request, reply) => {
      const principal = principalOf(request)
      return ctx.refusals.counting(principal, () => {
        const body = parseOr400(OpenAiSpeechRequest, request.body)
        const characters = checkInputLength(body.input)
        const format = speechFormatOf(body.response_format, ctx.ffmpeg)
        return serveBytes(ctx, principal, reply, toBytesRequest(body, format.outputFormat), {
          cacheKey: { route: '/v1/audio/speech', body: body as Record<string, unknown> },
          output: speechOutput({
            format,
            sse: body.stream_format === 'sse',
            characters,
            ffmpeg: ctx.ffmpeg,
            log: request.log,
          }),
        })
      })
    })
  }
}

/**
 * `GET /v1/models`: any valid credential may list what the OpenAI routes accept. A gateway lists
 * OpenAI's names only: other model ids go to the upstream as sent, and are the upstream's to list.
 */
export function registerOpenAiModelRoute(app: FastifyInstance, guard: Guard, options = { gateway: false }): void {
  app.get('/v1/models', { onRequest: guard('any') }, async () => openAiModelList(options))
}

/**
 * `POST /audio/transcriptions`, with and without OpenAI's /v1 prefix: an upload recognised as on
 * `/stt`, answered in OpenAI's response formats or as its stream (local speech; gateway mode relays
 * these paths itself).
 */
export function registerOpenAiTranscriptionRoutes(app: FastifyInstance, ctx: SttContext, guard: Guard): void {
  app.register(async (scope) => {
    await registerUploadParsing(scope, ctx)
    for (const path of ['/audio/transcriptions', '/v1/audio/transcriptions']) {
      scope.post(path, uploadRouteOptions(ctx, guard), (request, reply) => {
        const principal = principalOf(request)
        return ctx.refusals.counting(principal, () => serveTranscription(ctx, principal, request, reply))
      })
    }
  })
}
