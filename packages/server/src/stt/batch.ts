import { VoxgateError, type SttBatchResponse, type SttWord } from '@voxgate/protocol'
import { SttBatchFields } from '@voxgate/protocol/schemas'
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import { parseOr400 } from '../http/validate.ts'
import type { RawPcm } from './audio-file.ts'
import type { FromWorker } from './messages.ts'
import { assertSttModel, isOpenAiSttModel } from './models.ts'
import { readUpload, type Upload } from './multipart.ts'
import type { Recognizer } from './pool.ts'
import { queryObject } from './upgrade.ts'
import { queryOf } from '../http/authenticate.ts'

type Answer = Exclude<FromWorker, { type: 'ready' | 'boot_failed' }>

/** One upload, read and checked: the file, its raw PCM layout if any, and every text field as sent. */
export interface BatchRequest {
  fields: SttBatchFields
  /** The text fields as sent, for routes that read more of them (OpenAI's `response_format`, `stream`). */
  extras: Upload['fields']
  file: Buffer
  raw: RawPcm | undefined
}

/** What one upload was recognised as: each of the recogniser's utterances, with its words. */
export interface Recognized {
  utterances: SttWord[][]
  /** Seconds of audio in the file. */
  duration: number
}

/**
 * Reads the multipart upload (and the raw PCM layout from the query) and checks it, before anything
 * is charged. `openAiModels`: OpenAI's model ids are taken too (on OpenAI's paths).
 */
export async function readBatchRequest(
  request: FastifyRequest,
  options: { openAiModels?: boolean } = {},
): Promise<BatchRequest> {
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
  if (!(options.openAiModels && isOpenAiSttModel(fields.model))) assertSttModel(fields.model)
  if (!upload.file || upload.file.length === 0)
    throw new VoxgateError('invalid_request', 'Invalid request: file is required.')
  if (Boolean(fields.encoding) !== Boolean(fields.sample_rate))
    throw new VoxgateError('invalid_request', 'Invalid request: raw PCM needs both encoding and sample_rate.')
  const raw: RawPcm | undefined =
    fields.encoding && fields.sample_rate ? { encoding: fields.encoding, sampleRate: fields.sample_rate } : undefined
  return { fields, extras: upload.fields, file: upload.file, raw }
}

/**
 * Recognises one upload in a recognition worker; its duration is charged to the token's audio
 * budget before any recognition (a file longer than what remains is refused whole, 429
 * `quota_exceeded`).
 */
export async function recognizeBatch(ctx: SttContext, principal: Principal, batch: BatchRequest): Promise<Recognized> {
  await ctx.stt.usage.assertRemaining(principal)
  let revoked: VoxgateError | undefined
  const lease = await ctx.streams.open(principal, (err) => (revoked = err), 'stt')
  let recognizer: Recognizer | undefined
  try {
    recognizer = await ctx.stt.recognizers.acquire()
    const conversation = new Conversation(recognizer, () => revoked)
    recognizer.send({ type: 'file', bytes: batch.file, raw: batch.raw, maxSeconds: ctx.config.sttMaxUploadSeconds })
    const { seconds } = await conversation.next('decoded')
    // The whole upload is reserved before it is recognised: one that does not fit is refused whole.
    const reserved = await ctx.stt.usage.reserve(principal, Math.ceil(seconds * 1000))
    try {
      recognizer.send({ type: 'recognize' })
      const utterances = await conversation.utterances()
      ctx.stt.usage.settle(principal, reserved.ms, reserved.charge, 0)
      return { utterances, duration: Math.round(seconds * 1000) / 1000 }
    } catch (err) {
      ctx.stt.usage.refund(reserved.charge, reserved.ms)
      throw err
    }
  } finally {
    recognizer?.release()
    lease.release()
  }
}

/** `POST /stt`: one file in, one JSON transcript out (Cartesia's shape). */
export async function transcribeUpload(
  ctx: SttContext,
  request: FastifyRequest,
  principal: Principal,
): Promise<SttBatchResponse> {
  const batch = await readBatchRequest(request)
  const { utterances, duration } = await recognizeBatch(ctx, principal, batch)
  const words = utterances.flat()
  return {
    type: 'transcript',
    text: words.map((w) => w.word).join(' '),
    request_id: request.id,
    language: 'en',
    duration,
    ...(batch.fields.timestamp_granularities?.includes('word') && { words }),
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

  /** The words of each utterance (each `final`) until the file ends; utterances without words are left out. */
  async utterances(): Promise<SttWord[][]> {
    const utterances: SttWord[][] = []
    for (;;) {
      const msg = await this.#take()
      if (msg.type === 'failed') throw new VoxgateError(msg.code, msg.message)
      if (msg.type === 'final' && msg.words.length > 0) utterances.push(msg.words)
      if (msg.type === 'ended') return utterances
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
