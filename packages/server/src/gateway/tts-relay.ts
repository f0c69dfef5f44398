import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { GatewayContext } from './gateway-context.ts'
import type { TtsSseRequest } from '@voxgate/protocol'
import { serveBytes } from '../transports/bytes.ts'
import { serveCachedBytes } from '../transports/cached-bytes.ts'
import { serveSse } from '../transports/sse.ts'
import { clientGone } from '../transports/speech-stream.ts'
import { chunkSizer, msPerByte } from './audio-length.ts'
import { callUpstream } from './call.ts'
import { startThrough } from './circuit-breaker.ts'
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
  ctx: GatewayContext,
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
  // The TTS cache: a hit never reaches the upstream (only /tts/bytes answers are kept). A translated
  // request (OpenAI's speech) is keyed by the client's own body and kept as the client got it.
  const cache = transport === 'bytes' ? ctx.ttsCache : undefined
  const key = cache?.keyOf({
    route: translated ? '/v1/audio/speech' : '/tts/bytes',
    keyId: principal.keyId,
    version: translated?.cartesiaVersion ?? cartesiaVersionOf(request.headers),
    body: request.body as Record<string, unknown>,
  })
  if (cache && key !== undefined) {
    const hit = await cache.get(key)
    ctx.metrics.ttsCache(hit ? 'hit' : 'miss')
    if (hit)
      return void (await serveCachedBytes(ctx, principal, reply, {
        hit,
        transcript: body.transcript,
        markup: 'known',
        free: cache.free,
      }))
  }
  const stream = await openRelayedStream(ctx, principal, body.transcript, { client, response: reply.raw }, transport)
  let res: Awaited<ReturnType<typeof send>>
  try {
    res = await send(ctx, upstream, request, stream, transport, translated)
  } catch (err) {
    // A translated request (OpenAI's speech) is planned from the Cartesia body sent upstream, and
    // answered in the client's shape by the same output the relay would have used.
    const plan = ctx.fallback?.planFor(err, translated?.body ?? request.body, transport)
    if (!plan) {
      stream.end()
      throw err
    }
    stream.handOver()
    ctx.metrics.fallback(plan.reason)
    request.log.warn({ reason: plan.reason }, 'upstream failed; speaking locally (--fallback local)')
    if (transport === 'bytes') {
      const output = translated && { output: translated.output }
      return void (await serveBytes(ctx, principal, reply, plan.request, { fallback: true, ...output }))
    }
    return serveSse(ctx, principal, request, reply, plan.request as TtsSseRequest, { fallback: true })
  }
  stream.accepted()
  const perByte = msPerByte(body.output_format)
  const circuit = res.ticket
  if (transport === 'bytes')
    await pipeAudio(reply, res.value, stream, chunkSizer(perByte), {
      circuit,
      idleMs: upstream.idleMs,
      ...(translated && { output: translated.output }),
      ...(cache && key !== undefined && { fill: cache.fill(key) }),
    })
  else
    await pipeEvents(request, reply, res.value, stream, {
      perByte,
      contextId: body.context_id,
      idleMs: upstream.idleMs,
      circuit,
    })
}

async function send(
  ctx: GatewayContext,
  upstream: Upstream,
  request: FastifyRequest,
  stream: RelayedStream,
  transport: Transport,
  translated: TranslatedTts | undefined,
) {
  return startThrough(ctx.circuit, () =>
    callUpstream(upstream, {
      method: 'POST',
      path: upstreamPath('tts', transport),
      search: searchOf(request.url),
      headers: forwardHeaders(request.headers, { 'content-type': 'application/json' }),
      cartesiaVersion: translated?.cartesiaVersion ?? cartesiaVersionOf(request.headers),
      body: JSON.stringify(translated?.body ?? request.body),
      signal: stream.signal,
    }),
  )
}
