import { DEFAULT_MODEL_ID } from '../tts/models.ts'

/** OpenAI's speech models, each an alias of voxgate's default (the voice picks the engine). */
export const OPENAI_SPEECH_MODELS = ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts'] as const

/** The voxgate model id an OpenAI `model` stands for; any other id is passed on to voxgate's own check. */
export function speechModelOf(model: string): string {
  return (OPENAI_SPEECH_MODELS as readonly string[]).includes(model) ? DEFAULT_MODEL_ID : model
}
