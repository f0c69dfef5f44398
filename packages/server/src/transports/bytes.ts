import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { VoxgateError, type OutputFormat, type TtsBytesRequest } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { checkSpeechRequest, checkTranscriptLength } from './prepare.ts'
import { hardClose } from '../sockets/hard-close.ts'
import { clientGone, openSpeechStream, revoked } from './speech-stream.ts'
import { serveCachedBytes } from './cached-bytes.ts'

/** Says an answer was spoken by the offline engines because the upstream failed (gateway `--fallback local`). */
export const FALLBACK_HEADER = 'x-voxgate-fallback'

const CONTENT_TYPES: Record<OutputFormat['container'], string> = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  raw: 'application/octet-stream',
}

/** How a route other than `/tts/bytes` sends the same stream (OpenAI's `/v1/audio/speech`). */
export interface BytesOutput {
  contentType: string
  /** Turns the audio, as made, into the bytes sent: another container, or SSE events. */
  reshape(audio: AsyncIterable<Buffer>): AsyncIterable<Buffer>
}

/** How a caller other than the `/tts/bytes` route shapes the same stream. */
export interface BytesOptions {
  /** Another route's shape (OpenAI's `/v1/audio/speech`). */
  output?: BytesOutput
  /** Gateway mode's local fallback: checked and rate-counted as a relay already, and labelled so. */
  fallback?: boolean
  /**
   * What the TTS cache keys the answer by (tts/cache.ts): the route and the request as the client
   * sent it. Default: `/tts/bytes` and `body`. A fallback is never cached (the upstream's voice may be back).
   */
  cacheKey?: { route: string; body: Record<string, unknown> }
}

/**
 * `POST /tts/bytes`: audio streamed with chunked encoding as each sentence is synthesized. The first
 * chunk is awaited before the status line goes out, so a failure to start is still a JSON error;
 * after that a failure can only cut the stream short.
 */
export async function serveBytes(
  ctx: ServerContext,
  principal: Principal,
  reply: FastifyReply,
  body: TtsBytesRequest,
  options: BytesOptions = {},
): Promise<FastifyReply> {
  const { fallback = false } = options
  const output = options.output ?? {
    contentType: CONTENT_TYPES[body.output_format.container],
    reshape: (audio: AsyncIterable<Buffer>) => audio,
  }
  const client = clientGone(reply.raw)
  checkTranscriptLength(body.transcript)
  if (body.save === true)
    throw new VoxgateError('unsupported_feature', 'save: voxgate keeps no audio files; leave save out or false.')
  const speech = checkSpeechRequest(ctx, principal, body, { voiceAllowed: fallback })
  if (!fallback) await ctx.rateLimiter.take('tts', principal.keyId)
  const cache = fallback ? undefined : ctx.ttsCache
  const { route, body: keyBody } = options.cacheKey ?? { route: '/tts/bytes', body }
  const key = cache?.keyOf({ route, keyId: principal.keyId, body: keyBody })
  if (cache && key !== undefined) {
    const hit = await cache.get(key)
    ctx.metrics.ttsCache(hit ? 'hit' : 'miss')
    if (hit)
      return serveCachedBytes(ctx, principal, reply, {
        hit,
        transcript: body.transcript,
        markup: 'any',
        free: cache.free,
      })
  }
  const stream = await openSpeechStream(
    ctx,
    principal,
    { ...speech, text: body.transcript },
    { client, response: reply.raw },
    'bytes',
    { fallback },
  )
  let first: IteratorResult<{ audio: Uint8Array; durationSeconds: number }>
  try {
    first = await stream.chunks.next()
    // The client may have gone while the first audio was made: nothing is sent to nobody.
    if (stream.signal.aborted) throw stream.signal.reason
  } catch (err) {
    stream.end()
    throw err
  }
  let audioMs = 0
  async function* audio(): AsyncGenerator<Buffer> {
    try {
      for (let r = first; !r.done; r = await stream.chunks.next()) {
        audioMs += r.value.durationSeconds * 1000
        if (r.value.audio.byteLength > 0)
          yield Buffer.from(r.value.audio.buffer, r.value.audio.byteOffset, r.value.audio.byteLength)
      }
      if (stream.signal.aborted) throw stream.signal.reason
    } finally {
      stream.end()
    }
  }
  const socket = reply.raw.socket
  // Bytes have no error event: a revoked stream is cut, queued audio included.
  stream.signal.addEventListener(
    'abort',
    () => {
      if (revoked(stream.signal)) hardClose(socket)
    },
    { once: true },
  )
  if (fallback) reply.header(FALLBACK_HEADER, 'local')
  return reply
    .type(output.contentType)
    .header('cache-control', 'no-store')
    .send(Readable.from(kept(output.reshape(audio())), { objectMode: false }))

  /** The answer as sent, collected for the cache on a miss; kept only once it was sent whole. */
  async function* kept(shaped: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const fill = cache && key !== undefined ? cache.fill(key) : undefined
    for await (const chunk of shaped) {
      fill?.add(chunk)
      yield chunk
    }
    fill?.complete(output.contentType, audioMs)
  }
}
