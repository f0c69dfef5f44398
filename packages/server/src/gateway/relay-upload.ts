import type { IncomingMessage } from 'node:http'
import { VoxgateError } from '@voxgate/protocol'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import type { StreamTransport } from '../streams/registry.ts'
import { clientGone } from '../transports/speech-stream.ts'
import { callUpstream } from './call.ts'
import { cartesiaVersionOf, forwardHeaders, searchOf } from './forward-headers.ts'
import { cappedUpload, checkDeclaredLength, declaredLength } from './upload-body.ts'
import type { Upstream } from './upstream.ts'

/** An upload relayed to the upstream, its answer arrived (a success: failures were thrown). */
export interface RelayedUpload {
  res: IncomingMessage
  /** Aborted on revocation, when the client goes, or at `end`; `reason` is a VoxgateError. */
  signal: AbortSignal
  /** Releases the stream slot; idempotent. */
  end(): void
}

/** Where an upload goes: the upstream path, the stream's transport (metrics), who watches it pass. */
export interface UploadTarget {
  path: string
  transport: StreamTransport
  watch?: (chunk: Buffer) => void
}

/**
 * Relays a multipart upload (voice changer, STT) to `path`: the audio budget must not be spent, a
 * concurrency slot is taken (`limits.concurrent_streams`: uploads spend the upstream account too),
 * then the body streams to the upstream as it arrives (`watch` sees it pass). Revocation or the
 * client leaving aborts it.
 */
export async function relayUpload(
  ctx: ServerContext,
  upstream: Upstream,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  target: UploadTarget,
): Promise<RelayedUpload> {
  try {
    return await relay(ctx, upstream, principal, request, reply, target)
  } catch (err) {
    // Refused with the upload still coming: close the connection rather than read the rest of it.
    if (!request.raw.complete) reply.header('connection', 'close')
    throw err
  }
}

async function relay(
  ctx: ServerContext,
  upstream: Upstream,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  target: UploadTarget,
): Promise<RelayedUpload> {
  const client = clientGone(reply.raw)
  const maxBytes = ctx.config.sttUploadLimitBytes + 64 * 1024
  checkDeclaredLength(request.raw, maxBytes)
  await ctx.stt.usage.assertRemaining(principal)
  const controller = new AbortController()
  const lease = await ctx.streams.open(principal, (err) => controller.abort(err), target.transport)
  const end = () => {
    lease.release()
    client.removeEventListener('abort', onClientGone)
    if (!controller.signal.aborted) controller.abort(new VoxgateError('context_cancelled', 'The stream ended.'))
  }
  const onClientGone = () => {
    controller.abort(client.reason)
    end()
  }
  if (client.aborted) onClientGone()
  client.addEventListener('abort', onClientGone, { once: true })
  try {
    // Read only now: a refused upload is never read, let alone relayed.
    const body = cappedUpload(request.raw, maxBytes, target.watch)
    const res = await callUpstream(upstream, {
      method: 'POST',
      path: target.path,
      search: searchOf(request.url),
      headers: forwardHeaders(request.headers, declaredLength(request.raw)),
      cartesiaVersion: cartesiaVersionOf(request.headers),
      body,
      signal: controller.signal,
    })
    // Revoked or gone while the answer is read: the upstream request goes with it.
    controller.signal.addEventListener(
      'abort',
      () => {
        if (!res.complete) res.destroy(controller.signal.reason)
      },
      { once: true },
    )
    return { res, signal: controller.signal, end }
  } catch (err) {
    end()
    throw err
  }
}
