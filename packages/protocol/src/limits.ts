/**
 * Every named bound of the wire protocol, in one place for the server, the client and the app kit.
 * Each is documented in the README's Limits table and tested one past its edge.
 */

/** Token lifetime bounds in seconds (Cartesia: max 3600). */
export const TOKEN_TTL_MIN_SECONDS = 1
export const TOKEN_TTL_MAX_SECONDS = 3600
export const TOKEN_TTL_DEFAULT_SECONDS = 60

/** Longest credential (API key or token) accepted anywhere; longer is refused before any parsing. */
export const CREDENTIAL_MAX_CHARS = 8192

/** voxgate's token extensions. */
export const SUB_MAX_CHARS = 256
export const LIMIT_VOICES_MAX = 100
export const LIMIT_ORIGINS_MAX = 20
export const LIMIT_CONCURRENT_STREAMS_MAX = 100
export const LIMIT_CHARACTERS_MAX = 100_000_000
export const LIMIT_AUDIO_SECONDS_MAX = 10_000_000

/** Characters (see `countCharacters`) in one TTS request. */
export const TRANSCRIPT_MAX_CHARS = 10_000
/** Characters (see `countCharacters`) in one OpenAI-compatible `input` (`POST /v1/audio/speech`), OpenAI's own bound. */
export const OPENAI_SPEECH_INPUT_MAX_CHARS = 4096
/** OpenAI's `speed` range; the engines then clamp it to what `generation_config.speed` takes (0.6–1.5). */
export const OPENAI_SPEED_MIN = 0.25
export const OPENAI_SPEED_MAX = 4
export const SAMPLE_RATE_MIN = 8000
export const SAMPLE_RATE_MAX = 48000
export const MP3_BIT_RATES = [32000, 64000, 96000, 128000, 192000] as const

export const VOICES_LIMIT_MAX = 100
export const VOICES_LIMIT_DEFAULT = 10
