import { WebSocketServer } from 'ws'
import type { Logger } from 'pino'
import type { UsageMeter } from '../quotas/meter.ts'
import type { Clock } from '../clock.ts'
import type { Store } from '../store/types.ts'
import type { ServerContext } from '../context.ts'
import { RecognizerPool } from './pool.ts'
import { AudioUsage } from './usage.ts'

/** What the server ends at shutdown: each open STT socket. */
export interface ClosableSocket {
  shutdown(): void
}

export interface SttServiceOptions {
  maxStreams: number
  wsMaxPayloadBytes: number
  /** The PocketSphinx en-us model folder. */
  modelDir: string
  /** Where the recognisers' calibration is kept between starts. */
  calibrationFile: string
}

/**
 * Speech to text: warm recognisers (worker threads), the audio budget of tokens, and the open STT
 * WebSockets. Routes and sockets reach it as `ctx.stt`.
 */
export interface SttService {
  readonly recognizers: RecognizerPool
  readonly usage: AudioUsage
  readonly sockets: Set<ClosableSocket>
  /** Accepts STT upgrades (`noServer`: the credential is checked before). */
  readonly wss: WebSocketServer
  close(): Promise<void>
}

/** What the speech-to-text routes and sockets, local or relayed, are handed. */
export interface SttContext extends ServerContext {
  stt: SttService
}

export function createSttService(
  options: SttServiceOptions,
  store: Store,
  meter: UsageMeter,
  clock: Clock,
  logger: Logger,
): SttService {
  const sockets = new Set<ClosableSocket>()
  const { maxStreams, modelDir, calibrationFile } = options
  const recognizers = new RecognizerPool({ maxStreams, modelDir, calibrationFile })
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.wsMaxPayloadBytes, perMessageDeflate: false })
  return {
    recognizers,
    usage: new AudioUsage(store, meter, clock, logger),
    sockets,
    wss,
    async close() {
      for (const s of [...sockets]) s.shutdown()
      wss.close()
      await recognizers.close()
    },
  }
}
