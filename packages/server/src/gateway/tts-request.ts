import { z } from 'zod'
import { VoxgateError } from '@voxgate/protocol'
import { VoiceSpecifier } from '@voxgate/protocol/schemas'
import type { Principal } from '../auth/principal.ts'
import { checkTranscriptLength } from '../transports/prepare.ts'

/**
 * What a relay reads of a TTS request: only what voxgate checks and counts. Every other field (and
 * Sonic-3 markup in the transcript) goes to the upstream unchanged, in the body as the client sent
 * it: the upstream, not voxgate's local schema, decides what it honours.
 */
export const RelayedTtsRequest = z.object({
  transcript: z.string(),
  voice: VoiceSpecifier,
  output_format: z.looseObject({ container: z.string().optional() }).optional(),
  context_id: z.string().max(256).optional(),
})
export type RelayedTtsRequest = z.infer<typeof RelayedTtsRequest>

/** The checks voxgate owns before a TTS request is relayed: transcript length and `limits.voices`. */
export function checkRelayedSpeech(principal: Principal, body: RelayedTtsRequest): void {
  checkTranscriptLength(body.transcript, 'known')
  // The token's voice ids are the upstream's: no local catalogue is consulted, here or at mint time.
  const allowed = principal.kind === 'token' ? principal.limits?.voices : undefined
  if (allowed && !allowed.includes(body.voice))
    throw new VoxgateError('voice_not_allowed', 'This access token may not use this voice.')
}
