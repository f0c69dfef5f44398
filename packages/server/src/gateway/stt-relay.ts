import type { IncomingMessage } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { SttBatchFields } from '@voxgate/protocol/schemas'
import type { Principal } from '../auth/principal.ts'
import { queryOf } from '../http/authenticate.ts'
import { parseOr400 } from '../http/validate.ts'
import type { RawPcm } from '../stt/audio-file.ts'
import { queryObject } from '../stt/upgrade.ts'
import { relayUpload, UploadNotRelayed, type Uploads } from './relay-upload.ts'
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
 * An upload the upstream refuses, or whose answer does not arrive, is refunded.
 */
export async function relayTranscription(
  uploads: Uploads,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
): Promise<FastifyReply> {
  const { usage } = uploads.ctx.stt
  let upload: Awaited<ReturnType<typeof relayUpload<undefined>>>
  try {
    upload = await relayUpload(uploads, principal, request, reply, {
      path,
      transport: 'stt',
      fileField: 'file',
      inspect: (form) => ({ checked: undefined, raw: rawPcmOf(form, request.url) }),
      fallback: true,
    })
  } catch (err) {
    if (!(err instanceof UploadNotRelayed)) throw err
    return reply.send(await transcribeLocally(uploads.ctx, principal, request, reply, err))
  }
  try {
    const body = await readTranscript(upload.res, uploads.upstream.idleMs)
    usage.settle(principal, upload.reserved.ms, upload.reserved.charge, 0)
    return await reply.type(upload.res.headers['content-type'] ?? 'application/json').send(body)
  } catch (err) {
    usage.refund(upload.reserved.charge, upload.reserved.ms)
    throw err
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
