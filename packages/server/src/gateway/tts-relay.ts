import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { clientGone } from '../transports/speech-stream.ts'
import { chunkSizer, msPerByte } from './audio-length.ts'
import { callUpstream } from './call.ts'
import { cartesiaVersionOf, forwardHeaders, searchOf } from './forward-headers.ts'
import { pipeAudio, type RelayOutput } from './pipe-audio.ts'
import { pipeEvents } from './pipe-events.ts'
import { openRelayedStream, type RelayedStream } from './relay-stream.ts'
import { checkRelayedSpeech, type RelayedTtsRequest } from './tts-request.ts'
import type { Upstream } from './upstream.ts'
import { upstreamPath } from './upstream-path.ts'

type Transport = 'bytes' | 'sse'

/** A request that came in another API's shape (OpenAI's speech, openai/), translated to `/tts/bytes`. */
export interface TranslatedTts {
  /** The body sent upstream in place of the client's. */
  body: object
  /** The Cartesia-Version the translation is written for: the client sent none of Cartesia's. */
  cartesiaVersion: string
  /** What the client receives in place of the upstream's bytes as they are. */
  output: RelayOutput
}

/**
 * `POST /tts/bytes` and `/tts/sse` relayed. Every voxgate check runs first (voices, length, rate,
 * slot, characters), so a refused request never reaches the upstream; then the client's body goes
 * as sent, and the answer comes back as it arrives. A failure before the upstream answers is a JSON
 * error, as for local speech.
 */
export async function relayTts(
  ctx: ServerContext,
  upstream: Upstream,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  body: RelayedTtsRequest,
  transport: Transport,
  translated?: TranslatedTts,
): Promise<void> {
  const client = clientGone(reply.raw)
  checkRelayedSpeech(principal, body)
  await ctx.rateLimiter.take('tts', principal.keyId)
  const stream = await openRelayedStream(ctx, principal, body.transcript, { client, response: reply.raw }, transport)
  const res = await send(upstream, request, stream, transport, translated)
  stream.accepted()
  const perByte = msPerByte(body.output_format)
  if (transport === 'bytes')
    await pipeAudio(reply, res, stream, chunkSizer(perByte), upstream.idleMs, translated?.output)
  else await pipeEvents(request, reply, res, stream, perByte, body.context_id, upstream.idleMs)
}

async function send(
  upstream: Upstream,
  request: FastifyRequest,
  stream: RelayedStream,
  transport: Transport,
  translated: TranslatedTts | undefined,
) {
  try {
    return await callUpstream(upstream, {
      method: 'POST',
      path: upstreamPath('tts', transport),
      search: searchOf(request.url),
      headers: forwardHeaders(request.headers, { 'content-type': 'application/json' }),
      cartesiaVersion: translated?.cartesiaVersion ?? cartesiaVersionOf(request.headers),
      body: JSON.stringify(translated?.body ?? request.body),
      signal: stream.signal,
    })
  } catch (err) {
    stream.end()
    throw err
  }
}
