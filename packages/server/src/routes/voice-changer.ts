import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { Guard } from '../http/guard.ts'

/**
 * Cartesia's voice changer without an upstream: voxgate has no voice-changing engine, so the routes
 * exist (the grant is checked, as everywhere) and answer 501 `not_supported`, whatever the body:
 * in a scope of their own whose only body parser reads nothing, so the multipart upload the voice
 * changer takes is not a 415. Gateway mode relays them instead (gateway/voice-changer.ts).
 */
export function registerVoiceChangerRoutes(app: FastifyInstance, guard: Guard): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
    const opts = { onRequest: guard({ grant: 'voice_changer' }) }
    for (const path of ['/voice-changer/bytes', '/voice-changer/sse']) {
      scope.post(path, opts, async (_request, reply) => {
        // The body is never read: the connection closes after the answer rather than read the rest.
        reply.header('connection', 'close')
        throw new VoxgateError(
          'not_supported',
          'The voice changer needs gateway mode (voxgate serve --upstream URL); this server speaks locally.',
        )
      })
    }
  })
}
