import type { IncomingMessage } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { callUpstream, type UpstreamCall } from './call.ts'
import { cartesiaVersionOf, forwardHeaders, searchOf } from './forward-headers.ts'
import type { Upstream } from './upstream.ts'
import type { CachedAnswer, VoiceCache } from './voice-cache.ts'

/** A voices answer larger than this is not a catalogue page voxgate relays. */
const MAX_VOICES_BODY = 8 * 1024 * 1024

/**
 * `GET /voices`, `/voices/` and `/voices/:id` relayed: the upstream's catalogue with pagination and
 * filters passed through in the query, cached briefly (voice-cache.ts). The path is rebuilt from the
 * route (the id encoded), never copied from the client's URL.
 */
export async function relayVoices(
  upstream: Upstream,
  cache: VoiceCache,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
): Promise<FastifyReply> {
  const search = searchOf(request.url)
  const version = cartesiaVersionOf(request.headers)
  const key = `${path}${search}\u0000${version ?? ''}`
  const answer = await cache.get(key, () =>
    fetchAnswer(upstream, {
      method: 'GET',
      path,
      search,
      headers: forwardHeaders(request.headers),
      cartesiaVersion: version,
    }),
  )
  return reply.type(answer.contentType).header('cache-control', 'private, max-age=30').send(answer.body)
}

/**
 * One upstream voices request, read whole. Shared by every client waiting on the same key, so no
 * client's departure aborts it; a deadline (twice the connect-and-first-byte one) bounds it instead.
 */
async function fetchAnswer(upstream: Upstream, call: Omit<UpstreamCall, 'signal'>): Promise<CachedAnswer> {
  const controller = new AbortController()
  const timer = setTimeout(
    () => controller.abort(new VoxgateError('upstream_timeout', 'The upstream did not answer in time.')),
    upstream.timeoutMs * 2,
  )
  try {
    const res = await callUpstream(upstream, { ...call, signal: controller.signal })
    controller.signal.addEventListener('abort', () => res.destroy(controller.signal.reason), { once: true })
    return await readAnswer(res)
  } finally {
    clearTimeout(timer)
  }
}

async function readAnswer(res: IncomingMessage): Promise<CachedAnswer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_VOICES_BODY) {
      res.destroy()
      throw new VoxgateError('upstream_error', "The upstream's voices answer is too large.")
    }
    chunks.push(chunk)
  }
  return { contentType: res.headers['content-type'] ?? 'application/json', body: Buffer.concat(chunks) }
}
