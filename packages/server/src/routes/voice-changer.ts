import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { Guard } from '../http/guard.ts'

/**
 * Cartesia's voice changer without an upstream: voxgate has no voice-changing engine, so the routes
 * exist (the grant is checked, as everywhere) and answer 501 `not_supported`. Gateway mode relays
 * them instead (gateway/voice-changer.ts).
 */
export function registerVoiceChangerRoutes(app: FastifyInstance, guard: Guard): void {
  const opts = { onRequest: guard({ grant: 'voice_changer' }) }
  for (const path of ['/voice-changer/bytes', '/voice-changer/sse']) {
    app.post(path, opts, async () => {
      throw new VoxgateError(
        'not_supported',
        'The voice changer needs gateway mode (voxgate serve --upstream URL); this server speaks locally.',
      )
    })
  }
}
