import { VoxgateError, type SttBatchResponse, type SttWord } from '@voxgate/protocol'
import { SttBatchFields } from '@voxgate/protocol/schemas'
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { parseOr400 } from '../http/validate.ts'
import type { RawPcm } from './audio-file.ts'
import type { FromWorker } from './messages.ts'
import { assertSttModel } from './models.ts'
import { readUpload } from './multipart.ts'
import type { Recognizer } from './pool.ts'
import { queryObject } from './upgrade.ts'
import { queryOf } from '../http/authenticate.ts'

type Answer = Exclude<FromWorker, { type: 'ready' | 'boot_failed' }>

/**
 * `POST /stt` and `POST /audio/transcriptions`: one file in, one JSON transcript out. The file is
 * decoded in a recognition worker; its duration is charged to the token's audio budget before any
 * recognition (a file longer than what remains is refused whole, 429 `quota_exceeded`).
 */
export async function transcribeUpload(
  ctx: ServerContext,
  request: FastifyRequest,
  principal: Principal,
): Promise<SttBatchResponse> {
  const upload = await readUpload(request)
  const q = queryObject(queryOf(request.url))
  const fields = parseOr400(
    SttBatchFields,
    {
      ...upload.fields,
      ...(q.encoding !== undefined && { encoding: q.encoding }),
      ...(q.sample_rate !== undefined && { sample_rate: q.sample_rate }),
      ...(typeof upload.fields.timestamp_granularities === 'string' && {
        timestamp_granularities: [upload.fields.timestamp_granularities],
      }),
    },
    'request',
  )
  assertSttModel(fields.model)
  if (!upload.file || upload.file.length === 0)
    throw new VoxgateError('invalid_request', 'Invalid request: file is required.')
  if (Boolean(fields.encoding) !== Boolean(fields.sample_rate))
    throw new VoxgateError('invalid_request', 'Invalid request: raw PCM needs both encoding and sample_rate.')
  const raw: RawPcm | undefined =
    fields.encoding && fields.sample_rate ? { encoding: fields.encoding, sampleRate: fields.sample_rate } : undefined
  await ctx.stt.usage.assertRemaining(principal)

  let revoked: VoxgateError | undefined
  const lease = await ctx.streams.open(principal, (err) => (revoked = err), 'stt')
  let recognizer: Recognizer | undefined
  try {
    recognizer = await ctx.stt.recognizers.acquire()
    const conversation = new Conversation(recognizer, () => revoked)
    recognizer.send({ type: 'file', bytes: upload.file, raw, maxSeconds: ctx.config.sttMaxUploadSeconds })
    const { seconds } = await conversation.next('decoded')
    // The whole upload is reserved before it is recognised: one that does not fit is refused whole.
    const reserved = await ctx.stt.usage.reserve(principal, Math.ceil(seconds * 1000))
    try {
      recognizer.send({ type: 'recognize' })
      const words = await conversation.words()
      ctx.stt.usage.settle(principal, reserved.ms, reserved.charge, 0)
      return {
        type: 'transcript',
        text: words.map((w) => w.word).join(' '),
        request_id: request.id,
        language: 'en',
        duration: Math.round(seconds * 1000) / 1000,
        ...(fields.timestamp_granularities?.includes('word') && { words }),
      }
    } catch (err) {
      ctx.stt.usage.refund(reserved.charge, reserved.ms)
      throw err
    }
  } finally {
    recognizer?.release()
    lease.release()
  }
}

/** The worker's answers to one upload, awaited in order. */
class Conversation {
  #queue: Answer[] = []
  #wake: (() => void) | undefined

  constructor(
    recognizer: Recognizer,
    private readonly revoked: () => VoxgateError | undefined,
  ) {
    recognizer.onMessage = (msg) => {
      this.#queue.push(msg)
      this.#wake?.()
    }
  }

  async next<T extends Answer['type']>(type: T): Promise<Extract<Answer, { type: T }>> {
    for (;;) {
      const msg = await this.#take()
      if (msg.type === 'failed') throw new VoxgateError(msg.code, msg.message)
      if (msg.type === type) return msg as Extract<Answer, { type: T }>
    }
  }

  async words(): Promise<SttWord[]> {
    const words: SttWord[] = []
    for (;;) {
      const msg = await this.#take()
      if (msg.type === 'failed') throw new VoxgateError(msg.code, msg.message)
      if (msg.type === 'final') words.push(...msg.words)
      if (msg.type === 'ended') return words
    }
  }

  async #take(): Promise<Answer> {
    while (this.#queue.length === 0) {
      const revoked = this.revoked()
      if (revoked) throw revoked
      // Revocation is polled: a revoked upload ends within one recognition step.
      await new Promise<void>((resolve) => {
        this.#wake = resolve
        setTimeout(resolve, 200).unref()
      })
    }
    return this.#queue.shift()!
  }
}
