import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { VoxgateError } from '@voxgate/protocol'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { GatewayContext } from './gateway-context.ts'
import type { StreamTransport } from '../streams/registry.ts'
import type { RawPcm } from '../stt/audio-file.ts'
import type { AudioReservation } from '../stt/usage.ts'
import { clientGone } from '../transports/speech-stream.ts'
import { callUpstream } from './call.ts'
import { type CircuitTicket, startThrough } from './circuit-breaker.ts'
import { type UpstreamFailureReason, upstreamFailureReason } from './upstream-failure.ts'
import { cartesiaVersionOf, forwardHeaders, searchOf } from './forward-headers.ts'
import type { UploadDecoder } from './measure/decoder.ts'
import { uploadMs } from './measure/upload-seconds.ts'
import { checkDeclaredLength, readUploadBody } from './upload-body.ts'
import { assertMultipart, UploadForm } from './upload-form.ts'
import type { Upstream } from './upstream.ts'

/** What the upload relays share: the server, the upstream, and the decoder that measures uploads. */
export interface Uploads {
  ctx: GatewayContext
  upstream: Upstream
  decoder: UploadDecoder
}

/** An upload relayed to the upstream, its answer arrived (a success: failures were thrown). */
export interface RelayedUpload<T> {
  /** What the target's `inspect` made of the form's fields. */
  checked: T
  res: IncomingMessage
  /** Aborted on revocation, when the client goes, or at `end`; `reason` is a VoxgateError. */
  signal: AbortSignal
  /** The upload's audio, measured and reserved before it was relayed: the caller settles or refunds it. */
  reserved: AudioReservation
  /** Releases the stream slot; idempotent. */
  end(): void
  /** Told how reading the answer went: the upstream accepted the upload, its answer may still fail. */
  circuit: CircuitTicket
  /** The form voxgate read and checked, kept for the local fallback of an answer cut after its headers. */
  form: UploadForm
  raw: RawPcm | undefined
}

/** Where an upload goes: the upstream path, the stream's transport (metrics), its file and its checks. */
export interface UploadTarget<T> {
  path: string
  transport: StreamTransport
  /** The form field that holds the audio: `file` (STT), `clip` (voice changer). */
  fileField: string
  /** Checks the form's fields before anything is reserved: throws the refusal, or returns what it checked. */
  inspect(form: UploadForm): Inspected<T>
  /**
   * The local fallback may answer this upload (`--fallback local`): an upstream failure then throws
   * UploadNotRelayed, carrying the checked form, with the reservation and the slot given back.
   */
  fallback?: boolean
}

/** The upstream failed an upload the local fallback may answer: the form voxgate read and checked, and why. */
export class UploadNotRelayed extends Error {
  constructor(
    readonly reason: UpstreamFailureReason,
    readonly form: UploadForm,
    readonly raw: RawPcm | undefined,
  ) {
    super('The upstream failed the upload; the local fallback answers it.')
    this.name = 'UploadNotRelayed'
  }
}

export interface Inspected<T> {
  checked: T
  /** How to read a headerless file (raw PCM), if the file may be one. */
  raw?: RawPcm
}

/**
 * Relays a multipart upload (voice changer, STT) to `path`, exactly as a local upload is metered:
 * the audio budget must not be spent, a concurrency slot is taken (`limits.concurrent_streams`:
 * uploads spend the upstream account too), the upload is read whole (within the upload size
 * limit), its audio measured (upload-seconds.ts) and reserved from the token's budget and the
 * quotas; only then does the upstream see a byte, and what it sees is the form voxgate checked,
 * serialized anew. Revocation or the client leaving aborts it; a failure refunds the reservation.
 */
export async function relayUpload<T>(
  uploads: Uploads,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  target: UploadTarget<T>,
): Promise<RelayedUpload<T>> {
  try {
    return await relay(uploads, principal, request, reply, target)
  } catch (err) {
    // Refused with the upload still coming: close the connection rather than read the rest of it.
    if (!request.raw.complete) reply.header('connection', 'close')
    throw err
  }
}

async function relay<T>(
  uploads: Uploads,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  target: UploadTarget<T>,
): Promise<RelayedUpload<T>> {
  const { ctx } = uploads
  const client = clientGone(reply.raw)
  const maxBytes = ctx.config.sttUploadLimitBytes + 64 * 1024
  assertMultipart(request.headers['content-type'])
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
    const form = await UploadForm.parse(
      await readUploadBody(request.raw, maxBytes),
      request.headers['content-type'],
      target.fileField,
    )
    const { checked, raw } = target.inspect(form)
    const ms = await uploadMs(uploads.decoder, {
      bytes: form.file,
      raw,
      maxSeconds: ctx.config.sttMaxUploadSeconds,
      signal: controller.signal,
    })
    // The whole upload is reserved before the upstream sees it: one that does not fit is refused whole.
    const reserved = await ctx.stt.usage.reserve(principal, ms)
    try {
      const { value: res, ticket } = await startThrough(ctx.circuit, () =>
        send(uploads.upstream, request, target.path, form, controller.signal),
      )
      return { checked, res, signal: controller.signal, reserved, end, circuit: ticket, form, raw }
    } catch (err) {
      ctx.stt.usage.refund(reserved.charge, reserved.ms)
      const reason = target.fallback && ctx.fallback ? upstreamFailureReason(err) : undefined
      throw reason ? new UploadNotRelayed(reason, form, raw) : err
    }
  } catch (err) {
    end()
    throw err
  }
}

async function send(upstream: Upstream, request: FastifyRequest, path: string, form: UploadForm, signal: AbortSignal) {
  const body = await form.toBody()
  const res = await callUpstream(upstream, {
    method: 'POST',
    path,
    search: searchOf(request.url),
    headers: forwardHeaders(request.headers, {
      'content-type': body.contentType,
      'content-length': String(body.bytes.length),
    }),
    cartesiaVersion: cartesiaVersionOf(request.headers),
    body: Readable.from([body.bytes]),
    signal,
  })
  // Revoked or gone while the answer is read: the upstream request goes with it.
  signal.addEventListener(
    'abort',
    () => {
      if (!res.complete) res.destroy(signal.reason)
    },
    { once: true },
  )
  return res
}
