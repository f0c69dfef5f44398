import { TtsBytesRequest, TtsSseRequest, WsGenerationRequest } from '@voxgate/protocol/schemas'
import type { SpeechService } from '../tts/types.ts'
import { DEFAULT_MODEL_ID } from '../tts/models.ts'
import type { FallbackVoices } from './fallback-voices.ts'
import { type UpstreamFailureReason, upstreamFailureReason } from './upstream-failure.ts'

export interface LocalFallbackOptions {
  voices: FallbackVoices
  speech: SpeechService
}

/** A relayed request the offline engines will speak instead: why, and the request as local speech reads it. */
export interface FallbackPlan<T> {
  reason: UpstreamFailureReason
  request: T
}

const SCHEMAS = { bytes: TtsBytesRequest, sse: TtsSseRequest, websocket: WsGenerationRequest } as const
type Transport = keyof typeof SCHEMAS

/**
 * `--fallback local`: when the upstream fails the gateway (unreachable, a timeout, a 5xx, a 429, a
 * 401/403 to the gateway's own key, or its circuit open), a TTS request is spoken by the offline
 * engines instead. Never for the client's own 4xx (400, 404, 422): the upstream answered, and the
 * client must hear its answer. The local request is built from the relayed one: the voice mapped
 * (fallback-voices.ts), the model kept where the local engines know it, and only the fields local
 * speech reads; a request whose output format the local engines cannot make keeps the upstream's
 * failure.
 */
export class LocalFallback {
  constructor(private readonly options: LocalFallbackOptions) {}

  /** The fallback for a relayed request `raw` that failed with `err`, or undefined: `err` stands. */
  planFor<K extends Transport>(
    err: unknown,
    raw: unknown,
    transport: K,
  ): FallbackPlan<(typeof SCHEMAS)[K]['_output']> | undefined {
    const reason = upstreamFailureReason(err)
    if (reason === undefined) return undefined
    const request = this.localRequest(raw, transport)
    return request === undefined ? undefined : { reason, request }
  }

  /** The WebSocket shape of `localRequest`, for a fallback socket (transports/websocket/socket.ts). */
  readonly socketRequests = {
    localRequest: (raw: unknown) => this.localRequest(raw, 'websocket'),
  }

  /** The relayed body as a local request of `transport`'s shape; undefined when it cannot be one. */
  localRequest<K extends Transport>(raw: unknown, transport: K): (typeof SCHEMAS)[K]['_output'] | undefined {
    if (raw === null || typeof raw !== 'object') return undefined
    const body = raw as Record<string, unknown>
    const voice = voiceIdOf(body.voice)
    if (voice === undefined) return undefined
    const language = typeof body.language === 'string' ? body.language : undefined
    const model = typeof body.model_id === 'string' && this.options.speech.resolveModel(body.model_id)
    const generation = body.generation_config as Record<string, unknown> | undefined
    const candidate = {
      model_id: model ? body.model_id : DEFAULT_MODEL_ID,
      transcript: body.transcript,
      voice: this.options.voices.localVoiceFor(voice, language),
      output_format: body.output_format,
      ...(typeof generation === 'object' &&
        generation !== null && {
          generation_config: { speed: generation.speed, volume: generation.volume },
        }),
      ...pick(body, ['speed', 'context_id', 'continue', 'flush', 'add_timestamps', 'add_phoneme_timestamps']),
    }
    const parsed = SCHEMAS[transport].safeParse(candidate)
    return parsed.success ? parsed.data : undefined
  }
}

function voiceIdOf(voice: unknown): string | undefined {
  if (typeof voice === 'string') return voice
  if (voice !== null && typeof voice === 'object' && typeof (voice as { id?: unknown }).id === 'string')
    return (voice as { id: string }).id
  return undefined
}

function pick(body: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((n) => body[n] !== undefined).map((n) => [n, body[n]]))
}
