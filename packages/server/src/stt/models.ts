import { VoxgateError } from '@voxgate/protocol'

/** voxgate's own id for the engine every Cartesia STT model maps to. */
export const STT_ENGINE_MODEL = 'voxgate-pocketsphinx'

/**
 * OpenAI's transcription models: on OpenAI's paths (`/audio/transcriptions`, `/v1/...`) aliases of
 * the one engine too, so OpenAI's SDKs work unchanged; Cartesia's `/stt` does not know them.
 */
export const OPENAI_STT_MODELS = ['whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe'] as const

export const isOpenAiSttModel = (id: string): boolean => (OPENAI_STT_MODELS as readonly string[]).includes(id)

/**
 * Cartesia's STT models (`ink-2` realtime, `ink-whisper` and its dated snapshots) are all served by
 * the one offline engine, so apps written for Cartesia work unchanged.
 */
export function isSttModel(id: string): boolean {
  return id === 'ink-2' || id === 'ink-whisper' || id === STT_ENGINE_MODEL || /^ink-whisper-\d{4}-\d{2}-\d{2}$/.test(id)
}

export function assertSttModel(id: string): void {
  if (!isSttModel(id)) {
    throw new VoxgateError(
      'model_not_found',
      `Unknown speech-to-text model. Use ink-2, ink-whisper or ${STT_ENGINE_MODEL}.`,
    )
  }
}
