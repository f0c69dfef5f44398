import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { SttWord } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import { parseOr400 } from '../http/validate.ts'
import { readBatchRequest, recognizeBatch } from '../stt/batch.ts'
import { segmentsOf, srt, vtt } from './transcript-formats.ts'

/**
 * OpenAI's fields beyond Cartesia's: how to answer, and `prompt` and `temperature`, which are
 * accepted and have no effect (PocketSphinx takes neither; a relay does not send them on).
 */
export const OpenAiTranscriptionFields = z.object({
  response_format: z.enum(['json', 'text', 'verbose_json', 'srt', 'vtt']).default('json'),
  stream: z.enum(['true', 'false']).default('false'),
  prompt: z.string().optional(),
  temperature: z.coerce.number().min(0).max(1).optional(),
})
export type OpenAiTranscriptionFields = z.infer<typeof OpenAiTranscriptionFields>

/** A transcript, recognised here or relayed, as OpenAI's formats read it. */
export interface Transcript {
  /** Words grouped as spoken: each group is a `verbose_json` segment, an SRT or WebVTT cue, a stream delta. */
  utterances: SttWord[][]
  /** Seconds of audio in the file. */
  duration: number
  language: string
  /** `timestamp_granularities[]` as asked: `word` adds the words to `json` and `verbose_json`, `segment` the segments. */
  granularities: readonly string[]
}

/**
 * `POST /audio/transcriptions` and `/v1/audio/transcriptions`: the upload recognised as on `/stt`,
 * answered in OpenAI's `response_format` (JSON is Cartesia's transcript, a superset of OpenAI's
 * `{text}`), or with `stream=true` as OpenAI's `transcript.text.delta` / `transcript.text.done` events.
 */
export async function serveTranscription(
  ctx: SttContext,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const batch = await readBatchRequest(request, { openAiModels: true })
  const openai = parseOr400(OpenAiTranscriptionFields, batch.extras, 'request')
  const recognized = await recognizeBatch(ctx, principal, batch)
  const transcript: Transcript = {
    ...recognized,
    language: 'en',
    granularities: batch.fields.timestamp_granularities ?? ['segment'],
  }
  return answerTranscription(reply, openai, transcript, () => ({
    type: 'transcript',
    text: textOf(transcript),
    request_id: request.id,
    language: 'en',
    duration: recognized.duration,
    ...(transcript.granularities.includes('word') && { words: recognized.utterances.flat() }),
  }))
}

const textOf = (t: Transcript) => t.utterances.map((words) => words.map((w) => w.word).join(' ')).join(' ')

/** OpenAI's language names for the codes a transcript carries (`verbose_json` names the language). */
const LANGUAGE_NAMES: Record<string, string> = { en: 'english', de: 'german', es: 'spanish', fr: 'french' }

/** Sends `t` in the shape asked for; `json` builds the `json` answer (Cartesia's transcript here). */
export function answerTranscription(
  reply: FastifyReply,
  openai: OpenAiTranscriptionFields,
  t: Transcript,
  json: () => object,
): FastifyReply {
  reply.header('cache-control', 'no-store')
  if (openai.stream === 'true') return reply.type('text/event-stream; charset=utf-8').send(events(t))
  const plain = (body: string, type = 'text/plain; charset=utf-8') => reply.type(type).send(body)
  switch (openai.response_format) {
    case 'json':
      return reply.send(json())
    case 'verbose_json':
      return reply.send({
        task: 'transcribe',
        language: LANGUAGE_NAMES[t.language] ?? t.language,
        duration: t.duration,
        text: textOf(t),
        ...(t.granularities.includes('segment') && { segments: segmentsOf(t.utterances) }),
        ...(t.granularities.includes('word') && { words: t.utterances.flat() }),
      })
    case 'text':
      return plain(textOf(t))
    case 'srt':
      return plain(srt(segmentsOf(t.utterances)))
    case 'vtt':
      return plain(vtt(segmentsOf(t.utterances)), 'text/vtt; charset=utf-8')
  }
}

/** OpenAI's transcription stream: one delta per utterance (sent once the file is recognised), then the whole text. */
function events(t: Transcript): string {
  const frame = (event: object) => `data: ${JSON.stringify(event)}\n\n`
  const texts = t.utterances.map((words) => words.map((w) => w.word).join(' '))
  const deltas = texts.map((text, i) => frame({ type: 'transcript.text.delta', delta: i === 0 ? text : ` ${text}` }))
  return `${deltas.join('')}${frame({ type: 'transcript.text.done', text: texts.join(' ') })}`
}
