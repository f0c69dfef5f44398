import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { type SttWord, VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import { parseOr400 } from '../http/validate.ts'
import { relayUpload, UploadNotRelayed, type Uploads } from '../gateway/relay-upload.ts'
import { recognizeLocally } from '../gateway/stt-fallback.ts'
import type { GatewayContext } from '../gateway/gateway-context.ts'
import { rawPcmOf, settleTranscript } from '../gateway/stt-relay.ts'
import type { UploadForm } from '../gateway/upload-form.ts'
import { isOpenAiSttModel } from '../stt/models.ts'
import { answerTranscription, OpenAiTranscriptionFields, type Transcript } from './transcriptions.ts'

/** The upstream's STT model that OpenAI's model names stand for in gateway mode (Cartesia's batch model). */
export const UPSTREAM_STT_MODEL = 'ink-whisper'
/** A pause this long between two relayed words starts a new segment (as does a word ending a sentence). */
export const SEGMENT_PAUSE_S = 0.5

const GRANULARITY = 'timestamp_granularities[]'

/** What the upstream answers: Cartesia's transcript (voxgate's own, relayed to, is the same). */
const UpstreamTranscript = z.looseObject({
  text: z.string(),
  language: z.string().optional(),
  duration: z.number().optional(),
  words: z.array(z.object({ word: z.string(), start: z.number(), end: z.number() })).optional(),
})

/**
 * `POST /audio/transcriptions` and `/v1/audio/transcriptions` in gateway mode: the upload metered and
 * relayed as `/stt` is (relay-upload.ts), always to the upstream's `/audio/transcriptions` and always
 * asking for JSON, words included when the answer needs their times; voxgate then answers in
 * OpenAI's `response_format` or stream from it. `json` is the upstream's transcript as it came.
 */
export async function relayOpenAiTranscription(
  uploads: Uploads,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  // What the form asked for, kept for a local answer: the form itself is rewritten for the upstream.
  let asked: Asked | undefined
  let upload: Awaited<ReturnType<typeof relayUpload<Asked>>>
  let body: Buffer
  try {
    upload = await relayUpload(uploads, principal, request, reply, {
      path: '/audio/transcriptions',
      transport: 'stt',
      fileField: 'file',
      inspect: (form) => {
        asked = askForJson(form)
        return { checked: asked, raw: rawPcmOf(form, request.url) }
      },
      fallback: true,
    })
    // An answer cut after its headers falls back too (settleTranscript): none of it was sent.
    body = await settleTranscript(uploads, principal, upload)
  } catch (err) {
    if (!(err instanceof UploadNotRelayed) || !asked) throw err
    return answerLocally(uploads.ctx, principal, request, reply, { failed: err, asked })
  }
  const { openai, granularities } = upload.checked
  if (openai.response_format === 'json' && openai.stream === 'false')
    return reply
      .header('cache-control', 'no-store')
      .type(upload.res.headers['content-type'] ?? 'application/json')
      .send(body)
  const transcript = transcriptOf(body, granularities)
  return answerTranscription(reply, openai, transcript, () => ({}))
}

interface Asked {
  openai: OpenAiTranscriptionFields
  granularities: string[]
}

/**
 * Reads OpenAI's fields off the form and leaves the upstream a Cartesia request: no
 * `response_format`, `stream`, `prompt` or `temperature`; OpenAI's model names as the upstream's
 * model; word times asked for when segments are to be made of them.
 */
function askForJson(form: UploadForm): Asked {
  const openai = parseOr400(
    OpenAiTranscriptionFields,
    Object.fromEntries(['response_format', 'stream', 'prompt', 'temperature'].map((name) => [name, form.single(name)])),
    'request',
  )
  const fields = form.form
  const granularities = fields.getAll(GRANULARITY).filter((v): v is string => typeof v === 'string')
  for (const name of ['response_format', 'stream', 'prompt', 'temperature']) fields.delete(name)
  const model = form.single('model')
  if (model !== undefined && isOpenAiSttModel(model)) fields.set('model', UPSTREAM_STT_MODEL)
  if (!(openai.response_format === 'json' && openai.stream === 'false') && !granularities.includes('word'))
    fields.append(GRANULARITY, 'word')
  return { openai, granularities: granularities.length > 0 ? granularities : ['segment'] }
}

/** The upstream's JSON as a transcript: its words grouped into segments at sentence ends and pauses. */
function transcriptOf(body: Buffer, granularities: string[]): Transcript {
  let parsed: z.infer<typeof UpstreamTranscript>
  try {
    parsed = UpstreamTranscript.parse(JSON.parse(body.toString('utf8')))
  } catch {
    throw new VoxgateError('upstream_error', "The upstream's transcript is not one voxgate can read.")
  }
  const duration = parsed.duration ?? parsed.words?.at(-1)?.end ?? 0
  // No word times (an upstream that ignores timestamp_granularities): the whole text is one segment.
  const words = parsed.words?.length
    ? parsed.words
    : parsed.text
      ? [{ word: parsed.text, start: 0, end: duration }]
      : []
  return { utterances: segmentWords(words), duration, language: parsed.language ?? 'en', granularities }
}

function segmentWords(words: readonly SttWord[]): SttWord[][] {
  const segments: SttWord[][] = []
  let current: SttWord[] = []
  for (const word of words) {
    const last = current.at(-1)
    if (last && (/[.!?]$/.test(last.word) || word.start - last.end >= SEGMENT_PAUSE_S)) {
      segments.push(current)
      current = []
    }
    current.push(word)
  }
  if (current.length > 0) segments.push(current)
  return segments
}

/**
 * `--fallback local`: the upstream failed the upload, so the local recogniser transcribes it
 * (stt-fallback.ts) and voxgate answers in the `response_format` asked for, as its local route does.
 */
async function answerLocally(
  ctx: GatewayContext,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  { failed, asked }: { failed: UploadNotRelayed; asked: Asked },
): Promise<FastifyReply> {
  const recognized = await recognizeLocally(ctx, principal, request, reply, failed)
  const transcript: Transcript = { ...recognized, language: 'en', granularities: asked.granularities }
  const words = recognized.utterances.flat()
  return answerTranscription(reply, asked.openai, transcript, () => ({
    type: 'transcript',
    text: words.map((w) => w.word).join(' '),
    request_id: request.id,
    language: 'en',
    duration: recognized.duration,
    ...(asked.granularities.includes('word') && { words }),
  }))
}
