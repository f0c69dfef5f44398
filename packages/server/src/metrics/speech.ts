import { countCharacters } from '@voxgate/protocol'
import type { SpeechService, SynthesisChunk } from '../tts/types.ts'
import type { StreamLease } from '../streams/registry.ts'
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

/** Tells the stream's lease when its first audio arrives; the iterator itself when nobody listens. */
export function observeFirstAudio(
  chunks: AsyncIterator<SynthesisChunk>,
  lease: StreamLease,
): AsyncIterator<SynthesisChunk> {
  const heard = lease.firstAudio
  if (!heard) return chunks
  return {
    async next() {
      const r = await chunks.next()
      if (!r.done && r.value.audio.byteLength > 0) heard()
      return r
    },
    return: (value) => chunks.return?.(value) ?? Promise.resolve({ done: true, value }),
  }
}
