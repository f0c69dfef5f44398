import { MODEL_IDS } from '../tts/models.ts'
import { OPENAI_STT_MODELS, STT_ENGINE_MODEL } from '../stt/models.ts'
import { OPENAI_SPEECH_MODELS } from './models.ts'

/** A fixed date (2024-01-01): the models are built in, and a date that moved on restart would look like new ones. */
const CREATED = 1_704_067_200

/** `GET /v1/models`: OpenAI's list shape, the speech models then the transcription models (OpenAI's only, in gateway mode). */
export function openAiModelList(options: { gateway: boolean }) {
  const ids = options.gateway
    ? [...OPENAI_SPEECH_MODELS, ...OPENAI_STT_MODELS]
    : [...OPENAI_SPEECH_MODELS, ...MODEL_IDS, ...OPENAI_STT_MODELS, STT_ENGINE_MODEL]
  return {
    object: 'list',
    data: ids.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'voxgate' })),
  }
}
