import { VOICE_ENTRIES } from '../tts/voice-table.ts'

/**
 * OpenAI's voice names, each spoken by an English voxgate voice of a like character (the engine and
 * its own voice name, so the table reads without ids). Documented in docs/openai.md.
 */
const OPENAI_VOICE_ENGINES: Readonly<Record<string, string>> = {
  alloy: 'flite:slt',
  ash: 'flite:rms',
  ballad: 'flite:awb',
  coral: 'espeak:en-us+f3',
  echo: 'flite:kal16',
  fable: 'espeak:en-gb-x-rp',
  nova: 'flite:slt',
  onyx: 'flite:rms',
  sage: 'espeak:en-us+f3',
  shimmer: 'flite:slt',
  verse: 'flite:awb',
}

/** OpenAI's voice names, in the order its documentation lists them. */
export const OPENAI_VOICE_NAMES: readonly string[] = Object.keys(OPENAI_VOICE_ENGINES)

/** OpenAI voice name → voxgate voice id, built once from the catalogue. */
export const OPENAI_VOICES: ReadonlyMap<string, string> = new Map(
  Object.entries(OPENAI_VOICE_ENGINES).map(([name, engineVoice]) => {
    const entry = VOICE_ENTRIES.find((e) => `${e.engine}:${e.engineVoice}` === engineVoice)
    if (!entry) throw new Error(`OpenAI voice ${name} maps to ${engineVoice}, which is not in the catalogue`)
    return [name, entry.voice.id]
  }),
)

/** The voxgate voice an OpenAI `voice` names: one of OpenAI's names, else the value taken as a voxgate id. */
export function voiceIdOf(voice: string): string {
  return OPENAI_VOICES.get(voice) ?? voice
}
