import type { IncomingMessage } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { SttBatchFields } from '@voxgate/protocol/schemas'
import type { Principal } from '../auth/principal.ts'
import { queryOf } from '../http/authenticate.ts'
import { parseOr400 } from '../http/validate.ts'
import type { RawPcm } from '../stt/audio-file.ts'
import { queryObject } from '../stt/upgrade.ts'
import { type RelayedUpload, relayUpload, UploadNotRelayed, type Uploads } from './relay-upload.ts'
import { transcribeLocally } from './stt-fallback.ts'
import { idleError, UpstreamIdle } from './upstream-idle.ts'
import type { UploadForm } from './upload-form.ts'

/** A transcript answer larger than this is not one voxgate relays. */
const MAX_TRANSCRIPT_BODY = 4 * 1024 * 1024

/**
 * `POST /stt` and `/audio/transcriptions` relayed: the upload's duration is measured and reserved
 * from `limits.audio_seconds` and the quotas before the upstream sees it (relay-upload.ts), as a
 * local upload's is; the JSON transcript comes back as sent, and the reservation is what the
 * token, the quotas and the ledger are charged (the upstream's own `duration` is not trusted).
 * An upload the upstream refuses, or whose answer does not arrive, is refunded; with `--fallback
 * local` the local recogniser answers it instead (before the upstream answers, or after a cut answer).
 */
export async function relayTranscription(
  uploads: Uploads,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
): Promise<FastifyReply> {
  let upload: Awaited<ReturnType<typeof relayUpload<undefined>>>
  let body: Buffer
  try {
    upload = await relayUpload(uploads, principal, request, reply, {
      path,
      transport: 'stt',
      fileField: 'file',
      inspect: (form) => ({ checked: undefined, raw: rawPcmOf(form, request.url) }),
      fallback: true,
    })
    body = await settleTranscript(uploads, principal, upload)
  } catch (err) {
    if (!(err instanceof UploadNotRelayed)) throw err
    return reply.send(await transcribeLocally(uploads.ctx, principal, request, reply, err))
  }
  return reply.type(upload.res.headers['content-type'] ?? 'application/json').send(body)
}

/**
 * Reads a relayed upload's transcript and settles the upload: charged once the answer is read whole,
 * refunded otherwise, the circuit told which. The answer is read whole before any of it is sent, so
 * when the upstream cuts it or goes quiet after its 200 headers the client has had nothing yet: with
 * `--fallback local` that throws UploadNotRelayed, and the upload (held since it was measured:
 * relay-upload.ts) goes to the local recogniser, charged there once. A client that left, or a
 * revoked token, is neither a failure nor a fallback.
 */
export async function settleTranscript<T>(
  uploads: Uploads,
  principal: Principal,
  upload: RelayedUpload<T>,
): Promise<Buffer> {
  const { usage } = uploads.ctx.stt
  try {
    const body = await readTranscript(upload.res, uploads.upstream.idleMs)
    usage.settle(principal, upload.reserved.ms, upload.reserved.charge, 0)
    upload.circuit.answered()
    return body
  } catch (err) {
    usage.refund(upload.reserved.charge, upload.reserved.ms)
    if (upload.signal.aborted) {
      upload.circuit.abandoned()
      throw err
    }
    upload.circuit.failed()
    if (!uploads.ctx.fallback)
      throw err instanceof VoxgateError ? err : new VoxgateError('upstream_error', "The upstream's answer was cut.")
    const reason = err instanceof VoxgateError && err.code === 'upstream_timeout' ? 'timeout' : 'unreachable'
    throw new UploadNotRelayed(reason, upload.form, upload.raw)
  } finally {
    upload.end()
  }
}

const RawFields = SttBatchFields.pick({ encoding: true, sample_rate: true })

/** Headerless PCM's description, from the query (as Cartesia takes it) or the form: both or neither. */
export function rawPcmOf(form: UploadForm, url: string): RawPcm | undefined {
  const q = queryObject(queryOf(url))
  const fields = parseOr400(
    RawFields,
    { encoding: q.encoding ?? form.single('encoding'), sample_rate: q.sample_rate ?? form.single('sample_rate') },
    'request',
  )
  if (Boolean(fields.encoding) !== Boolean(fields.sample_rate))
    throw new VoxgateError('invalid_request', 'Invalid request: raw PCM needs both encoding and sample_rate.')
  return fields.encoding && fields.sample_rate
    ? { encoding: fields.encoding, sampleRate: fields.sample_rate }
    : undefined
}

/** The transcript, read whole within its cap; an upstream silent for `idleMs` meanwhile is cut. */
export async function readTranscript(res: IncomingMessage, idleMs: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  const idle = new UpstreamIdle(idleMs, () => res.destroy(idleError(idleMs)))
  try {
    idle.wait()
    for await (const chunk of res as AsyncIterable<Buffer>) {
      idle.wait()
      size += chunk.length
      if (size > MAX_TRANSCRIPT_BODY) {
        res.destroy()
        throw new VoxgateError('upstream_error', "The upstream's transcript is too large.")
      }
      chunks.push(chunk)
    }
  } finally {
    idle.hold()
  }
  return Buffer.concat(chunks)
}
