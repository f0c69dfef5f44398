import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import { parseOr400 } from '../http/validate.ts'
import { readBatchRequest, recognizeBatch, type Recognized } from '../stt/batch.ts'
import { segmentsOf, srt, vtt } from './transcript-formats.ts'

/**
 * OpenAI's fields beyond Cartesia's: how to answer, and `prompt` and `temperature`, which are
 * accepted and have no effect (PocketSphinx takes neither).
 */
const OpenAiTranscriptionFields = z.object({
  response_format: z.enum(['json', 'text', 'verbose_json', 'srt', 'vtt']).default('json'),
  stream: z.enum(['true', 'false']).default('false'),
  prompt: z.string().optional(),
  temperature: z.coerce.number().min(0).max(1).optional(),
})
type OpenAiTranscriptionFields = z.infer<typeof OpenAiTranscriptionFields>

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
  reply.header('cache-control', 'no-store')
  if (openai.stream === 'true') return reply.type('text/event-stream; charset=utf-8').send(events(recognized))
  const words = recognized.utterances.flat()
  const text = words.map((w) => w.word).join(' ')
  const granularities = batch.fields.timestamp_granularities ?? ['segment']
  return answer(reply, openai, {
    json: () => ({
      type: 'transcript',
      text,
      request_id: request.id,
      language: 'en',
      duration: recognized.duration,
      ...(granularities.includes('word') && { words }),
    }),
    verbose: () => ({
      task: 'transcribe',
      language: 'english',
      duration: recognized.duration,
      text,
      ...(granularities.includes('segment') && { segments: segmentsOf(recognized.utterances) }),
      ...(granularities.includes('word') && { words }),
    }),
    text,
    recognized,
  })
}

interface Answers {
  json: () => object
  verbose: () => object
  text: string
  recognized: Recognized
}

function answer(reply: FastifyReply, openai: OpenAiTranscriptionFields, a: Answers): FastifyReply {
  const plain = (body: string, type = 'text/plain; charset=utf-8') => reply.type(type).send(body)
  switch (openai.response_format) {
    case 'json':
      return reply.send(a.json())
    case 'verbose_json':
      return reply.send(a.verbose())
    case 'text':
      return plain(a.text)
    case 'srt':
      return plain(srt(segmentsOf(a.recognized.utterances)))
    case 'vtt':
      return plain(vtt(segmentsOf(a.recognized.utterances)), 'text/vtt; charset=utf-8')
  }
}

/** OpenAI's transcription stream: one delta per utterance (sent once the file is recognised), then the whole text. */
function events(recognized: Recognized): string {
  const frame = (event: object) => `data: ${JSON.stringify(event)}\n\n`
  const texts = recognized.utterances.map((words) => words.map((w) => w.word).join(' '))
  const deltas = texts.map((t, i) => frame({ type: 'transcript.text.delta', delta: i === 0 ? t : ` ${t}` }))
  return `${deltas.join('')}${frame({ type: 'transcript.text.done', text: texts.join(' ') })}`
}
