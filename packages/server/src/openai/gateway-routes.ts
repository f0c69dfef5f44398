import type { FastifyInstance } from 'fastify'
import type { GatewayContext } from '../gateway/gateway-context.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import type { Uploads } from '../gateway/relay-upload.ts'
import { acceptUploads, onError } from '../gateway/routes.ts'
import { relayTts } from '../gateway/tts-relay.ts'
import type { Upstream } from '../gateway/upstream.ts'
import { relayOpenAiTranscription } from './relayed-transcription.ts'
import { speechFormatOf } from './speech-formats.ts'
import { checkInputLength, OpenAiSpeechRequest } from './speech-request.ts'
import { toUpstreamSpeech } from './upstream-speech.ts'

export interface OpenAiGateway {
  ctx: GatewayContext
  upstream: Upstream
  /** The gateway's upload relays (gateway/routes.ts), whose decoders transcriptions share. */
  uploads: Uploads
  guard: Guard
}

/**
 * OpenAI's routes in gateway mode, each translated onto a relay: speech onto the upstream's
 * `/tts/bytes` (with every check, charge and cut of a relayed `/tts/bytes`), transcriptions onto its
 * `/audio/transcriptions` (metered as a relayed `/stt`).
 */
export function registerOpenAiGatewayRoutes(app: FastifyInstance, g: OpenAiGateway): void {
  const { ctx, upstream, guard } = g
  const tts = { onRequest: guard({ grant: 'tts' }), onError }
  for (const path of ['/v1/audio/speech', '/audio/speech']) {
    app.post(path, tts, (request, reply) => {
      const principal = principalOf(request)
      return ctx.refusals.counting(principal, () => {
        const body = parseOr400(OpenAiSpeechRequest, request.body)
        const characters = checkInputLength(body.input)
        const format = speechFormatOf(body.response_format, ctx.ffmpeg)
        const { checked, translated } = toUpstreamSpeech({
          body,
          format,
          characters,
          voiceMap: ctx.openAiVoiceMap,
          ffmpeg: ctx.ffmpeg,
          log: request.log,
        })
        return relayTts(ctx, upstream, principal, request, reply, checked, 'bytes', translated)
      })
    })
  }
  app.register(async (scope) => {
    acceptUploads(scope)
    const stt = { onRequest: guard({ grant: 'stt' }), onError }
    for (const path of ['/audio/transcriptions', '/v1/audio/transcriptions']) {
      scope.post(path, stt, (request, reply) => {
        const principal = principalOf(request)
        return ctx.refusals.counting(principal, () => relayOpenAiTranscription(g.uploads, principal, request, reply))
      })
    }
  })
}
