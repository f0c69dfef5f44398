import type { ServerConfig } from '../config.ts'
import type { SpeechService } from '../tts/types.ts'
import { LocalFallback } from './fallback.ts'
import { FallbackVoices, readFallbackVoiceMap } from './fallback-voices.ts'

/** `--fallback local` as configured: the voice map read and checked against the local catalogue at start. */
export function localFallback(config: ServerConfig, speech: SpeechService): LocalFallback {
  const map = config.fallbackVoiceMapFile ? readFallbackVoiceMap(config.fallbackVoiceMapFile, speech.voices) : undefined
  return new LocalFallback({ voices: new FallbackVoices(speech.voices, map), speech })
}
