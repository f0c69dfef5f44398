import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SttBatchResponse } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import { type Recognized, recognizeBatch } from '../stt/batch.ts'
import { FALLBACK_HEADER } from '../transports/bytes.ts'
import type { UploadNotRelayed } from './relay-upload.ts'

/**
 * `--fallback local` for `POST /stt` and OpenAI's `/audio/transcriptions`: the upstream failed an
 * upload voxgate had read and checked, so the local recogniser (PocketSphinx) transcribes it instead,
 * with the same slot, audio budget and quotas as a local upload, and says so in
 * `X-Voxgate-Fallback: local`. Where the recogniser is not installed, its own answer (503
 * `stt_unavailable`) is the client's.
 */
export async function recognizeLocally(
  ctx: SttContext,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  failed: UploadNotRelayed,
): Promise<Recognized> {
  ctx.metrics.fallback(failed.reason)
  request.log.warn({ reason: failed.reason }, 'upstream failed; transcribing locally (--fallback local)')
  const recognized = await recognizeBatch(ctx, principal, {
    fields: { model: 'ink-whisper' },
    extras: {},
    file: Buffer.from(failed.form.file),
    raw: failed.raw,
  })
  reply.header(FALLBACK_HEADER, 'local')
  return recognized
}

/** `POST /stt` answered by the local recogniser: Cartesia's transcript, as a local `/stt` answers. */
export async function transcribeLocally(
  ctx: SttContext,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  failed: UploadNotRelayed,
): Promise<SttBatchResponse> {
  const granularities = failed.form.form
    .getAll('timestamp_granularities[]')
    .concat(failed.form.form.getAll('timestamp_granularities'))
  const { utterances, duration } = await recognizeLocally(ctx, principal, request, reply, failed)
  const words = utterances.flat()
  return {
    type: 'transcript',
    text: words.map((w) => w.word).join(' '),
    request_id: request.id,
    language: 'en',
    duration,
    ...(granularities.includes('word') && { words }),
  }
}
