import { countCharacters } from '@voxgate/protocol'
import type { SpeechService } from '../tts/types.ts'
import type { Metrics } from './metrics.ts'

/**
 * The speech service as transports see it, counting the characters of every text handed to
 * synthesis (every transport asks through here), and feeding the pool gauges on scrape.
 */
export function meteredSpeech(speech: SpeechService, metrics: Metrics): SpeechService {
  if (!metrics.registry) return speech
  metrics.speechLoad(() => speech.load?.())
  return {
    get voices() {
      return speech.voices
    },
    resolveModel: (modelId) => speech.resolveModel(modelId),
    synthesize(request, signal) {
      metrics.charactersSynthesized(countCharacters(request.text))
      return speech.synthesize(request, signal)
    },
    close: () => speech.close(),
    ...(speech.load && { load: () => speech.load?.() }),
  }
}
