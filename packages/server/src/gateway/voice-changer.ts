import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { DirectSource } from '../streams/block-source.ts'
import { msPerByte, type SizedFormat } from './audio-length.ts'
import { MultipartFieldWatcher } from './multipart-fields.ts'
import { pipeAudio } from './pipe-audio.ts'
import { pipeEvents } from './pipe-events.ts'
import type { RelayHandle } from './relay-stream.ts'
import { relayUpload } from './relay-upload.ts'
import type { Upstream } from './upstream.ts'
import { upstreamPath } from './upstream-path.ts'

/**
 * `POST /voice-changer/bytes` and `/voice-changer/sse` relayed (Cartesia's voice changer: an audio
 * file in, the same speech in another voice out). The upload streams to the upstream; the answer
 * comes back as TTS's does. It takes a TTS rate-limit token and a stream slot, and the audio it
 * produces is charged to `limits.audio_seconds` when it ends, sized by the `output_format[...]`
 * fields seen as the upload streamed past (an upload without them is charged nothing: voxgate
 * cannot size audio whose format it does not know; MP3 is estimated from its bit rate).
 */
export async function relayVoiceChanger(
  ctx: ServerContext,
  upstream: Upstream,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  transport: 'bytes' | 'sse',
): Promise<void> {
  await ctx.rateLimiter.take('tts', principal.keyId)
  const fields = new MultipartFieldWatcher(FORMAT_FIELDS)
  const upload = await relayUpload(ctx, upstream, principal, request, reply, {
    path: upstreamPath('voice-changer', transport),
    transport,
    watch: (chunk) => fields.push(chunk),
  })
  let audioBytes = 0
  let ended = false
  const handle: RelayHandle = {
    signal: upload.signal,
    // Bytes here (the pipes are given 1 ms per byte); sized once the upload's fields are all seen.
    produced: (bytes) => {
      audioBytes += bytes
    },
    end: () => {
      if (ended) return
      ended = true
      upload.end()
      settle(ctx, principal, Math.round(audioBytes * msPerByte(formatOf(fields.found))))
    },
  }
  if (transport === 'bytes') await pipeAudio(reply, upload.res, handle, 1)
  else await pipeEvents(request, reply, upload.res, handle, 1)
}

const FORMAT_FIELDS = [
  'output_format[container]',
  'output_format[encoding]',
  'output_format[sample_rate]',
  'output_format[bit_rate]',
]

/** The answer's audio format, from the upload's form fields (Cartesia's `output_format[...]`). */
function formatOf(found: Record<string, string>): SizedFormat {
  const number = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined)
  return {
    container: found['output_format[container]'],
    encoding: found['output_format[encoding]'],
    sample_rate: number(found['output_format[sample_rate]']),
    bit_rate: number(found['output_format[bit_rate]']),
  }
}

/** The audio made goes to the token's audio budget (as far as it still holds) and to the ledger's voice-changer seconds. */
function settle(ctx: ServerContext, principal: Principal, ms: number): void {
  // Already produced upstream: past the budget, the next request is refused (assertRemaining).
  ctx.stt.usage.reserve(principal, ms, true).catch(() => undefined)
  new DirectSource(ctx.budgets, principal).settle({ audioMsVoiceChanged: ms, streams: 1 })
}
