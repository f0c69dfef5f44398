import type { FastifyReply, FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { relayUpload } from './relay-upload.ts'
import type { Upstream } from './upstream.ts'

/** A transcript answer larger than this is not one voxgate relays. */
const MAX_TRANSCRIPT_BODY = 4 * 1024 * 1024

/**
 * `POST /stt` and `/audio/transcriptions` relayed: the upload streams to the upstream, its JSON
 * transcript comes back as sent. The audio's duration is known only from the answer (`duration`,
 * seconds), so `limits.audio_seconds` is checked before (a spent budget is refused, never relayed)
 * and charged after: one upload can overrun the budget by at most its own length.
 */
export async function relayTranscription(
  ctx: ServerContext,
  upstream: Upstream,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
): Promise<FastifyReply> {
  const upload = await relayUpload(ctx, upstream, principal, request, reply, { path, transport: 'stt' })
  try {
    const body = await readCapped(upload.res)
    const ms = durationMs(body)
    // Transcribed already: charged as far as the budget holds (past it, the next upload is refused),
    // before the answer goes, so the token's usage shows it as soon as the client has the transcript.
    const reserved = await ctx.stt.usage.reserve(principal, ms, true).catch(() => ({ charge: [] }))
    ctx.stt.usage.settle(principal, ms, reserved.charge, 0)
    return await reply.type(upload.res.headers['content-type'] ?? 'application/json').send(body)
  } finally {
    upload.end()
  }
}

async function readCapped(res: AsyncIterable<Buffer> & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res) {
    size += chunk.length
    if (size > MAX_TRANSCRIPT_BODY) {
      res.destroy()
      throw new VoxgateError('upstream_error', "The upstream's transcript is too large.")
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** The transcript's `duration` in milliseconds, or 0 when the answer does not say. */
function durationMs(body: Buffer): number {
  try {
    const { duration } = JSON.parse(body.toString('utf8')) as { duration?: unknown }
    return typeof duration === 'number' && Number.isFinite(duration) && duration > 0 ? Math.ceil(duration * 1000) : 0
  } catch {
    return 0
  }
}
