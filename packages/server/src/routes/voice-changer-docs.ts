import type { ErrorCode } from '@voxgate/protocol'
import { UPSTREAM_ERRORS, type RouteDoc } from '../http/route-doc.ts'

/** The voice changer: a multipart upload relayed to the upstream in gateway mode, or 501 without one. */
const VOICE_CHANGER_ERRORS: ErrorCode[] = [
  'not_supported',
  'payload_too_large',
  'quota_exceeded',
  'concurrency_limited',
  'rate_limited',
  ...UPSTREAM_ERRORS,
]

/** The voice changer's two routes, local (routes/voice-changer.ts: 501) or relayed (gateway/routes.ts). */
export const VOICE_CHANGER_DOCS: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/voice-changer/bytes',
    summary:
      "Cartesia's voice changer, as an audio stream (gateway mode only: relayed to the upstream; 501 without one)",
    tag: 'voice changer',
    access: { grant: 'voice_changer' },
    ok: {
      status: 200,
      type: 'application/octet-stream',
      description: "Audio, by the multipart upload's output_format (relayed as the upstream sends it)",
    },
    errors: VOICE_CHANGER_ERRORS,
  },
  {
    method: 'post',
    path: '/voice-changer/sse',
    summary:
      "Cartesia's voice changer, as server-sent events (gateway mode only: relayed to the upstream; 501 without one)",
    tag: 'voice changer',
    access: { grant: 'voice_changer' },
    ok: { status: 200, type: 'text/event-stream', description: "The upstream's events, then `done` or `error`" },
    errors: VOICE_CHANGER_ERRORS,
  },
]
