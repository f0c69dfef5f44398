import type { CoreParts, SpeechParts } from '../context.ts'
import { meteredSpeech } from '../metrics/speech.ts'
import { findFfmpeg } from '../openai/ffmpeg.ts'
import type { RedisConnection } from '../shared/redis.ts'
import { createSpeechService } from '../tts/index.ts'
import { openTtsCache } from '../tts/open-cache.ts'
import type { SpeechService } from '../tts/types.ts'
import type { UndoStack } from '../undo-stack.ts'
import type { Opened } from './opened.ts'

export interface SpeechInput {
  /** A speech service shared between servers (tests); otherwise one is created and closed with the server. */
  speech?: SpeechService
  /** The cache is shared through Redis with `--tts-cache-redis`. */
  redis: RedisConnection | undefined
}

/**
 * The speech engines (metered), the rendered-answer cache and the ffmpeg that encodes `aac`.
 * `engines` is the unmetered service, for a fallback that counts its own use.
 */
export async function openSpeech(
  core: CoreParts,
  input: SpeechInput,
  opened: UndoStack,
): Promise<Opened<SpeechParts> & { engines: SpeechService }> {
  const { config, clock, logger, metrics } = core
  const engines =
    input.speech ??
    (await createSpeechService({
      ...(config.speechWorkers !== undefined && { workers: config.speechWorkers }),
      warm: !config.speechColdStart,
    }))
  if (!input.speech) opened.push(() => engines.close())
  // Looked for once; its absence is said once, where operators look.
  const ffmpeg = findFfmpeg(config.ffmpegPath)
  if (!ffmpeg) logger.info({ ffmpeg: config.ffmpegPath ?? 'PATH' }, 'no ffmpeg found: response_format aac is refused')
  return {
    parts: {
      ...core,
      speech: meteredSpeech(engines, metrics),
      ...(config.ttsCacheMb > 0 && { ttsCache: openTtsCache(config, clock, input.redis) }),
      ...(ffmpeg && {
        ffmpeg: { path: ffmpeg, maxRunMs: config.aacMaxRunMs, maxOutputBytes: config.aacMaxOutputBytes },
      }),
    },
    engines,
    close: async () => {
      if (!input.speech) await engines.close()
    },
  }
}
