import { readFileSync } from 'node:fs'
import type { VoiceCatalogue } from '../tts/types.ts'

/** The most entries a `--fallback-voice-map` file may hold: a map, not a catalogue dump. */
export const FALLBACK_MAP_MAX_ENTRIES = 10_000
/** A voice id on either side of the map, as the routes take them. */
const MAX_VOICE_ID_CHARS = 128

/**
 * Which local voice speaks for an upstream voice when the gateway falls back: the map's choice
 * (`--fallback-voice-map`), else the first local voice of the request's `language` (catalogue order
 * makes the first voice of each language its default), else the first English voice.
 */
export class FallbackVoices {
  constructor(
    private readonly catalogue: VoiceCatalogue,
    private readonly map: ReadonlyMap<string, string> = new Map(),
  ) {}

  localVoiceFor(upstreamVoiceId: string, language: string | undefined): string {
    const mapped = this.map.get(upstreamVoiceId)
    if (mapped !== undefined) return mapped
    const first = (lang: string) => this.catalogue.list({ language: lang, limit: 1 }).data[0]?.id
    const chosen = (language !== undefined ? first(language) : undefined) ?? first('en')
    if (chosen === undefined) throw new TypeError('the local voice catalogue has no English voice')
    return chosen
  }
}

/**
 * Reads and checks a voice map file at start: a JSON object of upstream voice id → local voice id,
 * every local id one the catalogue has. Anything else stops the start with a message naming the
 * file and the entry (never a silent fallback to a voice nobody chose).
 */
export function readFallbackVoiceMap(file: string, catalogue: VoiceCatalogue): Map<string, string> {
  const fail = (why: string) => new TypeError(`invalid server option --fallback-voice-map ${file}: ${why}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw fail(err instanceof SyntaxError ? 'not JSON' : 'cannot be read')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw fail('must be a JSON object {"<upstream voice id>": "<local voice id>"}')
  const entries = Object.entries(parsed)
  if (entries.length > FALLBACK_MAP_MAX_ENTRIES) throw fail(`more than ${FALLBACK_MAP_MAX_ENTRIES} entries`)
  const map = new Map<string, string>()
  for (const [upstreamId, localId] of entries) {
    if (upstreamId.length === 0 || upstreamId.length > MAX_VOICE_ID_CHARS)
      throw fail(`an upstream voice id must have 1 to ${MAX_VOICE_ID_CHARS} characters`)
    if (typeof localId !== 'string' || catalogue.get(localId) === undefined)
      throw fail(
        `"${upstreamId}" maps to ${JSON.stringify(localId)}, which is not a local voice id (GET /voices without --upstream lists them)`,
      )
    map.set(upstreamId, localId)
  }
  return map
}
