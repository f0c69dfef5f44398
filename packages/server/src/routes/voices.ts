import type { FastifyInstance, FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { VoicesQuery } from '@voxgate/protocol/schemas'
import type { SpeechParts } from '../context.ts'
import type { Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'

/** Before 2024-11-13 the list was a bare array (SDK2 calls `GET /voices/` and expects one). */
const BARE_ARRAY_BEFORE = '2024-11-13'

export function registerVoiceRoutes(app: FastifyInstance, ctx: SpeechParts, guard: Guard): void {
  const list = async (request: FastifyRequest) => {
    const query = parseOr400(VoicesQuery, request.query, 'query')
    const page = ctx.speech.voices.list(query)
    return request.apiVersion < BARE_ARRAY_BEFORE ? page.data : page
  }
  const opts = { onRequest: guard({ grant: 'voices' }) }
  app.get('/voices', opts, list)
  app.get('/voices/', opts, list)
  app.get<{ Params: { id: string } }>('/voices/:id', opts, async (request) => {
    const voice = ctx.speech.voices.get(request.params.id)
    if (!voice) throw new VoxgateError('voice_not_found', 'No voice has this id.')
    return voice
  })
}
