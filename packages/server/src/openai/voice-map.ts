import { readFileSync } from 'node:fs'
import { VOICE_ID_PATTERN } from '@voxgate/protocol/schemas'
import { StartError } from '../start-errors.ts'
import { OPENAI_VOICE_NAMES } from './voices.ts'

/**
 * Reads `--openai-voice-map FILE` (gateway mode): a JSON object from OpenAI voice names to the
 * upstream's voice ids, e.g. `{"alloy": "a0e99841-438c-4a64-b679-ae501e7d6091"}`. Checked whole at
 * start, so a typo stops the start naming the file and the entry instead of failing requests later:
 * every key must be one of OpenAI's names (another key would never be looked up) and every value a
 * voice id in Cartesia's syntax.
 */
export function loadOpenAiVoiceMap(file: string): ReadonlyMap<string, string> {
  const bad = (reason: string) =>
    new StartError('bad_openai_voice_map', `cannot use --openai-voice-map ${file}: ${reason}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw bad((err as Error).message)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw bad('expected a JSON object of OpenAI voice names to upstream voice ids')
  const map = new Map<string, string>()
  for (const [name, id] of Object.entries(parsed)) {
    if (!OPENAI_VOICE_NAMES.includes(name))
      throw bad(`"${name}" is not an OpenAI voice name (${OPENAI_VOICE_NAMES.join(', ')})`)
    if (typeof id !== 'string' || !VOICE_ID_PATTERN.test(id))
      throw bad(`"${name}" must map to a voice id (1 to 128 letters, digits, '-' or '_'), not ${JSON.stringify(id)}`)
    map.set(name, id)
  }
  return map
}
