import path from 'node:path'
import type { AccountingParts, CoreParts } from '../context.ts'
import type { GatewayParts } from '../gateway/gateway-context.ts'
import { openCircuitBreaker } from '../gateway/open-circuit.ts'
import { localFallback } from '../gateway/open-fallback.ts'
import type { Upstream } from '../gateway/upstream.ts'
import type { UsageMeter } from '../quotas/meter.ts'
import { createSttService, type SttService } from '../stt/service.ts'
import type { SpeechService } from '../tts/types.ts'
import type { UndoStack } from '../undo-stack.ts'

export interface FeaturesInput {
  /** Speech to text's use, counted in the ledger and against audio quotas. */
  audioMeter: UsageMeter
  /** The unmetered engines, which speak for `--fallback local`. */
  engines: SpeechService
  /** Gateway mode: the upstream checked before anything was opened. */
  upstream: Upstream | undefined
  openAiVoiceMap: ReadonlyMap<string, string> | undefined
}

/** Speech to text, and in gateway mode the upstream's circuit breaker and the local fallback. */
export function openFeatures(
  parts: CoreParts & Pick<AccountingParts, 'shared'>,
  input: FeaturesInput,
  opened: UndoStack,
): { stt: SttService } & Partial<GatewayParts> {
  const { config, clock, logger, store, shared } = parts
  const stt = createSttService(
    {
      maxStreams: config.sttMaxStreams,
      wsMaxPayloadBytes: config.wsMaxPayloadBytes,
      modelDir: config.sttModelDir,
      calibrationFile: config.sttCalibrationFile ?? path.join(config.dataDir, 'stt-calibration.json'),
    },
    store,
    input.audioMeter,
    clock,
    logger,
  )
  opened.push(() => stt.close())
  const { upstream, openAiVoiceMap } = input
  if (!upstream) return { stt }
  const circuit = openCircuitBreaker({ config, clock, upstream, redis: shared.redis })
  parts.metrics.upstreamCircuit(() => circuit.state())
  return {
    stt,
    upstream,
    circuit,
    ...(config.fallback === 'local' && { fallback: localFallback(config, input.engines) }),
    ...(openAiVoiceMap && { openAiVoiceMap }),
  }
}
