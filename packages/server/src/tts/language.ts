import type { EngineId } from './engine.ts'
import type { VoiceEntry } from './voice-table.ts'
import { normalizeLanguage } from './voices.ts'

/** Cartesia language codes whose espeak voice has another name. */
const ALIASES: Record<string, string> = {
  en: 'en-us',
  'en-gb': 'en-gb-x-rp',
  zh: 'cmn',
  'zh-cn': 'cmn',
  'zh-tw': 'cmn',
  'zh-hk': 'yue',
  no: 'nb',
  'es-mx': 'es-419',
  'es-us': 'es-419',
  'fr-fr': 'fr',
  'fr-ca': 'fr',
  'pt-pt': 'pt',
  tl: 'id',
}

/** espeak voice names (lowercase) for the languages Cartesia lists and a few more; all checked with set_voice. */
const ESPEAK_LANGUAGES = new Set([
  'af',
  'ar',
  'bg',
  'bn',
  'ca',
  'cmn',
  'cs',
  'cy',
  'da',
  'de',
  'el',
  'en-us',
  'en-gb-x-rp',
  'en-gb-scotland',
  'eo',
  'es',
  'es-419',
  'et',
  'eu',
  'fa',
  'fi',
  'fr',
  'fr-be',
  'fr-ch',
  'ga',
  'gu',
  'he',
  'hi',
  'hr',
  'hu',
  'hy',
  'id',
  'is',
  'it',
  'ja',
  'ka',
  'kn',
  'ko',
  'lt',
  'lv',
  'mk',
  'ml',
  'mr',
  'ms',
  'nb',
  'ne',
  'nl',
  'pa',
  'pl',
  'pt',
  'pt-br',
  'ro',
  'ru',
  'sk',
  'sl',
  'sq',
  'sr',
  'sv',
  'sw',
  'ta',
  'te',
  'th',
  'tr',
  'uk',
  'ur',
  'vi',
  'yue',
])

/** The espeak voice for a language tag (`de`, `pt-BR`, `en_GB`), trying the full tag then its language. */
export function espeakVoiceFor(language: string): string | undefined {
  const tag = normalizeLanguage(language)
  for (const candidate of [tag, tag.split('-')[0] ?? tag]) {
    const name = ALIASES[candidate] ?? candidate
    if (ESPEAK_LANGUAGES.has(name)) return name
  }
  return undefined
}

export interface ResolvedVoice {
  engine: EngineId
  voice: string
}

/** The espeak voice for exactly this locale (`en-GB` → `en-gb-x-rp`, `pt-BR` → `pt-br`), not its language's. */
function espeakAccentFor(locale: string): string | undefined {
  const tag = normalizeLanguage(locale)
  const name = ALIASES[tag] ?? tag
  return tag.includes('-') && ESPEAK_LANGUAGES.has(name) ? name : undefined
}

/** An espeak voice name with the variant (`+f3`) of `engineVoice` kept. */
const withVariant = (target: string, variant: string) => (variant ? `${target}+${variant}` : target)

/**
 * Which engine and engine voice speak a request. The voice decides the engine; `language` (or the
 * language of `locale`) overrides the voice's language when that is a different language: an espeak
 * voice keeps its variant (`en-us+f3` asked for German speaks `de+f3`), and a flite voice, English
 * only, hands over to espeak with a variant of the same gender. In the voice's own language, a
 * `locale` picks that accent where the voice's engine has one (an espeak voice with `en-GB` speaks
 * British English; flite has no accents to choose, so its voices stay as they are).
 */
export function resolveVoice(entry: VoiceEntry, language?: string, locale?: string): ResolvedVoice {
  const own = { engine: entry.engine, voice: entry.engineVoice }
  const tag = locale ?? language
  if (!tag) return own
  const variant =
    entry.engine === 'espeak'
      ? (entry.engineVoice.split('+')[1] ?? '')
      : entry.voice.gender === 'feminine'
        ? 'f3'
        : 'm3'
  const base = normalizeLanguage(tag).split('-')[0]
  if (base === entry.voice.language) {
    const accent = locale !== undefined && entry.engine === 'espeak' ? espeakAccentFor(locale) : undefined
    return accent ? { engine: 'espeak', voice: withVariant(accent, variant) } : own
  }
  const target = (locale !== undefined ? espeakAccentFor(locale) : undefined) ?? espeakVoiceFor(tag)
  if (!target) return own
  return { engine: 'espeak', voice: withVariant(target, variant) }
}
