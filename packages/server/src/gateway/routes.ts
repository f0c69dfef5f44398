import type { FastifyInstance, FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { VOICE_ID_PATTERN } from '@voxgate/protocol/schemas'
import type { GatewayContext } from './gateway-context.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { UploadDecoder } from './measure/decoder.ts'
import type { Uploads } from './relay-upload.ts'
import { relayTranscription } from './stt-relay.ts'
import { relayTts } from './tts-relay.ts'
import { RelayedTtsRequest } from './tts-request.ts'
import type { Upstream } from './upstream.ts'
import { upstreamPath } from './upstream-path.ts'
import { VoiceCache } from './voice-cache.ts'
import { relayVoiceChanger } from './voice-changer.ts'
import { relayVoices } from './voices.ts'

/**
 * Route hook: an upstream failure is the operator's to fix (a wrong key, an upstream down), so it is
 * logged, by code; its message holds a status at most, never an upstream body or the key.
 */
export const onError = async (request: FastifyRequest, _reply: unknown, err: unknown) => {
  if (err instanceof VoxgateError && err.code.startsWith('upstream_'))
    request.log.warn({ error_code: err.code, reason: err.message }, 'upstream failure')
}

const upgradeOnly = async () => {
  throw new VoxgateError('invalid_request', 'This endpoint speaks WebSocket; send an Upgrade request.')
}

/**
 * Gateway mode's HTTP routes, registered instead of the local speech, voices and STT routes: the
 * same paths and grants, each relayed to the upstream after voxgate's own checks. Refusals are
 * counted in the ledger as for local speech. `/agents/*` is not relayed. Each feature's routes are a
 * function of their own (app/relayed-features.ts composes them); OpenAI's are openai/'s, translated
 * onto these relays.
 */
export function registerRelayedTtsRoutes(
  app: FastifyInstance,
  ctx: GatewayContext,
  upstream: Upstream,
  guard: Guard,
): void {
  const tts = { onRequest: guard({ grant: 'tts' }) }
  for (const transport of ['bytes', 'sse'] as const) {
    app.post(`/tts/${transport}`, { ...tts, onError }, (request, reply) => {
      const principal = principalOf(request)
      return ctx.refusals.counting(principal, () =>
        relayTts(ctx, upstream, principal, request, reply, parseOr400(RelayedTtsRequest, request.body), transport),
      )
    })
  }
  app.get('/tts/websocket', tts, upgradeOnly)
}

/**
 * The upload relays' shared parts: every relay that takes an upload (voice changer, `/stt`, OpenAI's
 * transcriptions) shares one, and so its decoding threads.
 */
export function relayedUploads(ctx: GatewayContext, upstream: Upstream): Uploads {
  return { ctx, upstream, decoder: new UploadDecoder(ctx.config.sttMaxStreams) }
}

export function registerRelayedVoiceRoutes(app: FastifyInstance, upstream: Upstream, guard: Guard): void {
  const cache = new VoiceCache()
  const opts = { onRequest: guard({ grant: 'voices' }), onError }
  for (const path of ['/voices', '/voices/'])
    app.get(path, opts, (request, reply) => relayVoices(upstream, cache, request, reply, path))
  app.get<{ Params: { id: string } }>('/voices/:id', opts, (request, reply) => {
    // Checked before anything is sent: `..` or `%2e%2e` would be a path on the upstream, not an id.
    if (!VOICE_ID_PATTERN.test(request.params.id)) throw new VoxgateError('voice_not_found', 'No voice has this id.')
    return relayVoices(upstream, cache, request, reply, upstreamPath('voices', request.params.id))
  })
}

/** In `scope`, Fastify leaves multipart bodies unread, for the upload relay to read, measure and forward. */
export function acceptUploads(scope: FastifyInstance): void {
  scope.addContentTypeParser('multipart/form-data', (_request: FastifyRequest, _payload, done) => done(null, undefined))
}

/**
 * The voice changer's uploads: in a scope of their own, where Fastify leaves the body unread for the
 * relay to read, measure and forward (relay-upload.ts).
 */
export function registerRelayedVoiceChangerRoutes(app: FastifyInstance, uploads: Uploads, guard: Guard): void {
  const { ctx } = uploads
  app.register(async (scope) => {
    acceptUploads(scope)
    const changer = { onRequest: guard({ grant: 'voice_changer' }), onError }
    for (const transport of ['bytes', 'sse'] as const) {
      scope.post(`/voice-changer/${transport}`, changer, (request, reply) => {
        const principal = principalOf(request)
        return ctx.refusals.counting(principal, () => relayVoiceChanger(uploads, principal, request, reply, transport))
      })
    }
  })
}

/** `/stt`'s uploads, relayed as the voice changer's are; the STT sockets' paths answer a plain GET. */
export function registerRelayedSttRoutes(app: FastifyInstance, uploads: Uploads, guard: Guard): void {
  const { ctx } = uploads
  app.register(async (scope) => {
    acceptUploads(scope)
    const stt = { onRequest: guard({ grant: 'stt' }) }
    // `/audio/transcriptions` is OpenAI's, in openai/: it answers in OpenAI's response formats.
    scope.post('/stt', { ...stt, onError }, (request, reply) => {
      const principal = principalOf(request)
      return ctx.refusals.counting(principal, () => relayTranscription(uploads, principal, request, reply, '/stt'))
    })
    for (const path of ['/stt/websocket', '/stt/turns/websocket']) scope.get(path, stt, upgradeOnly)
  })
}
