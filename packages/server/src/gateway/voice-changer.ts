import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { DirectSource } from '../streams/block-source.ts'
import { pipeAudio } from './pipe-audio.ts'
import { pipeEvents } from './pipe-events.ts'
import type { RelayHandle } from './relay-stream.ts'
import { relayUpload } from './relay-upload.ts'
import type { Upstream } from './upstream.ts'

/**
 * `POST /voice-changer/bytes` and `/voice-changer/sse` relayed (Cartesia's voice changer: an audio
 * file in, the same speech in another voice out). The upload streams to the upstream; the answer
 * comes back as TTS's does. It takes a TTS rate-limit token and a stream slot, and the audio it
 * produces is charged to `limits.audio_seconds` once measured: exactly for a WAV answer (its header
 * gives the byte rate), not at all for raw PCM or SSE, whose format sits in the multipart fields
 * voxgate does not parse (the upload is relayed unread).
 */
export async function relayVoiceChanger(ctx: ServerContext, upstream: Upstream, principal: Principal, request: FastifyRequest, reply: FastifyReply, transport: 'bytes' | 'sse'): Promise<void> {
  await ctx.rateLimiter.take('tts', principal.keyId)
  const upload = await relayUpload(ctx, upstream, principal, request, reply, `/voice-changer/${transport}`, transport)
  let audioMs = 0
  let ended = false
  const handle: RelayHandle = {
    signal: upload.signal,
    produced: (ms) => { audioMs += ms },
    end: () => {
      if (ended) return
      ended = true
      upload.end()
      settle(ctx, principal, Math.round(audioMs))
    },
  }
  if (transport === 'bytes') await pipeAudio(reply, upload.res, handle, 0)
  else await pipeEvents(request, reply, upload.res, handle, 0)
}

/** The audio made goes to the token's audio budget (as far as it still holds) and to the ledger. */
function settle(ctx: ServerContext, principal: Principal, ms: number): void {
  // Already produced upstream: past the budget, the next request is refused (assertRemaining).
  ctx.stt.usage.reserve(principal, ms, true).catch(() => undefined)
  new DirectSource(ctx.budgets, principal).settle({ audioMsProduced: ms, streams: 1 })
}
