import type { FastifyReply } from 'fastify'
import { countCharacters, type MarkupRule } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { endOnce, startStream } from '../streams/stream-start.ts'
import type { CachedAudio } from '../tts/cache.ts'
import { hardClose } from '../sockets/hard-close.ts'
import { clientGone, revoked } from './speech-stream.ts'

/** Says an answer came from the TTS cache (tts/cache.ts). */
export const CACHE_HEADER = 'x-voxgate-cache'

export interface CachedAnswer {
  hit: CachedAudio
  /** The request's transcript, counted as the route counts it (`known` markup when relayed). */
  transcript: string
  markup: MarkupRule
  /** `--tts-cache-free`: the hit reserves nothing from the token's budget and the quotas. */
  free: boolean
}

/**
 * Sends a cached answer at once. It is a stream like any other (a slot, revocation, the ledger):
 * its characters count in the ledger's `characters` and `characters_cached`, and are charged to the
 * token's budget and the quotas as a synthesis would be, unless the cache is free.
 */
export async function serveCachedBytes(
  ctx: ServerContext,
  principal: Principal,
  reply: FastifyReply,
  answer: CachedAnswer,
): Promise<FastifyReply> {
  const client = clientGone(reply.raw)
  const characters = countCharacters(answer.transcript, answer.markup)
  const started = await startStream(
    ctx,
    principal,
    answer.free ? '' : answer.transcript,
    client,
    'bytes',
    answer.markup,
  )
  started.lease.firstAudio?.()
  const end = endOnce(started, { client, response: reply.raw }, () => ({
    characters,
    charactersCached: characters,
    audioMsProduced: answer.hit.audioMs,
  }))
  // Nothing more is made: the figures are final, the slot is held until the response has closed.
  end()
  const socket = reply.raw.socket
  started.controller.signal.addEventListener(
    'abort',
    () => {
      if (revoked(started.controller.signal)) hardClose(socket)
    },
    { once: true },
  )
  return reply
    .type(answer.hit.contentType)
    .header('cache-control', 'no-store')
    .header(CACHE_HEADER, 'hit')
    .send(answer.hit.body)
}
