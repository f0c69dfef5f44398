import type { Voice } from '@voxgate/protocol'
import { uuidV5 } from './uuid.ts'

/**
 * Namespace of voxgate voice ids. A voice's id is `uuidV5("<engine>:<engine voice>", this)`, so ids
 * are stable across machines and restarts and never need a migration; changing this constant would
 * change every id, so it never changes.
 */
export const VOICE_ID_NAMESPACE = '6f1d3c2e-7a4b-4e58-9c1a-2b7d0e5f8a91'

/** One catalogued voice: Cartesia's shape for clients, plus what the engine needs. */
export interface VoiceEntry {
  voice: Voice
  engine: 'espeak' | 'flite'
  /** The engine's own voice name: `slt`, `en-us+f3`, `de+m3`. */
  engineVoice: string
}

type Gender = Voice['gender']

interface Row {
  engine: VoiceEntry['engine']
  engineVoice: string
  name: string
  locale: string
  gender: Gender
  tagline: string
  description: string
}

const FLITE =
  'CMU Flite statistical-parametric voice, English only; more natural than eSpeak, about 65 ms per sentence.'
const ESPEAK =
  'eSpeak NG formant synthesis: robotic but clear, streams within a sentence, first audio in about a millisecond.'

/** Catalogue order is paging order; the first voice is the default. Every espeak name was checked with set_voice. */
const ROWS: Row[] = [
  {
    engine: 'flite',
    engineVoice: 'slt',
    name: 'Flite SLT',
    locale: 'en-US',
    gender: 'feminine',
    tagline: 'Natural American English, feminine',
    description: FLITE,
  },
  {
    engine: 'flite',
    engineVoice: 'rms',
    name: 'Flite RMS',
    locale: 'en-US',
    gender: 'masculine',
    tagline: 'Natural American English, masculine',
    description: FLITE,
  },
  {
    engine: 'flite',
    engineVoice: 'awb',
    name: 'Flite AWB',
    locale: 'en-GB',
    gender: 'masculine',
    tagline: 'Scottish English, masculine',
    description: FLITE,
  },
  {
    engine: 'flite',
    engineVoice: 'kal16',
    name: 'Flite KAL',
    locale: 'en-US',
    gender: 'masculine',
    tagline: 'American English diphone voice, very fast',
    description: 'CMU Flite diphone voice, English only; the fastest voice here, about 15 ms per sentence.',
  },
  {
    engine: 'espeak',
    engineVoice: 'en-us+f3',
    name: 'eSpeak American English F',
    locale: 'en-US',
    gender: 'feminine',
    tagline: 'American English, feminine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'en-gb-x-rp',
    name: 'eSpeak British English RP',
    locale: 'en-GB',
    gender: 'masculine',
    tagline: 'British English (Received Pronunciation), masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'de+m3',
    name: 'eSpeak German M',
    locale: 'de-DE',
    gender: 'masculine',
    tagline: 'German, masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'de+f2',
    name: 'eSpeak German F',
    locale: 'de-DE',
    gender: 'feminine',
    tagline: 'German, feminine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'fr+f2',
    name: 'eSpeak French F',
    locale: 'fr-FR',
    gender: 'feminine',
    tagline: 'French, feminine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'fr+m3',
    name: 'eSpeak French M',
    locale: 'fr-FR',
    gender: 'masculine',
    tagline: 'French, masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'es',
    name: 'eSpeak Spanish M',
    locale: 'es-ES',
    gender: 'masculine',
    tagline: 'Spanish (Spain), masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'es-419+f3',
    name: 'eSpeak Latin American Spanish F',
    locale: 'es-MX',
    gender: 'feminine',
    tagline: 'Latin American Spanish, feminine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'it+f3',
    name: 'eSpeak Italian F',
    locale: 'it-IT',
    gender: 'feminine',
    tagline: 'Italian, feminine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'pt-br',
    name: 'eSpeak Brazilian Portuguese M',
    locale: 'pt-BR',
    gender: 'masculine',
    tagline: 'Brazilian Portuguese, masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'nl',
    name: 'eSpeak Dutch M',
    locale: 'nl-NL',
    gender: 'masculine',
    tagline: 'Dutch, masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'pl+f2',
    name: 'eSpeak Polish F',
    locale: 'pl-PL',
    gender: 'feminine',
    tagline: 'Polish, feminine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'sv+f3',
    name: 'eSpeak Swedish F',
    locale: 'sv-SE',
    gender: 'feminine',
    tagline: 'Swedish, feminine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'ru',
    name: 'eSpeak Russian M',
    locale: 'ru-RU',
    gender: 'masculine',
    tagline: 'Russian, masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'tr',
    name: 'eSpeak Turkish M',
    locale: 'tr-TR',
    gender: 'masculine',
    tagline: 'Turkish, masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'hi+f3',
    name: 'eSpeak Hindi F',
    locale: 'hi-IN',
    gender: 'feminine',
    tagline: 'Hindi, feminine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'cmn',
    name: 'eSpeak Mandarin M',
    locale: 'zh-CN',
    gender: 'masculine',
    tagline: 'Mandarin Chinese, masculine',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'ja',
    name: 'eSpeak Japanese M',
    locale: 'ja-JP',
    gender: 'masculine',
    tagline: 'Japanese, masculine (reads kana best)',
    description: ESPEAK,
  },
  {
    engine: 'espeak',
    engineVoice: 'ko',
    name: 'eSpeak Korean M',
    locale: 'ko-KR',
    gender: 'masculine',
    tagline: 'Korean, masculine',
    description: ESPEAK,
  },
]

/** A fixed creation date: the catalogue is built in, and a date that moved on restart would look like new voices. */
const CREATED_AT = '2024-01-01T00:00:00Z'

function toEntry(row: Row): VoiceEntry {
  const [language = 'en', country = null] = row.locale.split('-')
  const voice: Voice = {
    id: uuidV5(`${row.engine}:${row.engineVoice}`, VOICE_ID_NAMESPACE),
    name: row.name,
    description: row.description,
    language,
    locales: [{ locale: row.locale, is_native: true }],
    gender: row.gender,
    created_at: CREATED_AT,
    is_owner: false,
    is_public: true,
    access: 'public',
    visibility: 'all',
    tagline: row.tagline,
    country,
  }
  return { voice: Object.freeze(voice), engine: row.engine, engineVoice: row.engineVoice }
}

export const VOICE_ENTRIES: readonly VoiceEntry[] = Object.freeze(ROWS.map(toEntry))

/** The default voice (flite slt, American English, feminine). */
export const DEFAULT_VOICE_ID: string = VOICE_ENTRIES[0]?.voice.id ?? ''
