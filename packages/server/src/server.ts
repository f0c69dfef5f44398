import type { Logger } from 'pino'
import type { AppContext } from './app/app-context.ts'
import { openAccounting } from './assembly/accounting.ts'
import { openAuth } from './assembly/auth.ts'
import { openCore } from './assembly/core.ts'
import { openFeatures } from './assembly/features.ts'
import { openOperations } from './assembly/operations.ts'
import { preflight } from './assembly/preflight.ts'
import { serve } from './assembly/serve.ts'
import { openSpeech } from './assembly/speech.ts'
import { systemClock, type Clock } from './clock.ts'
import { parseConfig, type ServerConfigInput } from './config.ts'
import { createLogger } from './logger.ts'
import type { Store } from './store/types.ts'
import type { DevTls } from './tls/dev-ca.ts'
import type { SpeechService } from './tts/types.ts'
import { UndoStack } from './undo-stack.ts'

export interface VoxgateServerDeps {
  clock?: Clock
  logger?: Logger
  store?: Store
  /** A speech service to share between servers (tests); otherwise one is created and owned. */
  speech?: SpeechService
}

export interface VoxgateServer {
  /** `https://host:port` (or `http://` behind a proxy). */
  url: string
  port: number
  ctx: AppContext
  /** Set when a development certificate is in use. */
  devTls: DevTls | undefined
  /** `http://host:port/metrics` with `--metrics`, else undefined. */
  metricsUrl: string | undefined
  close(): Promise<void>
}

/**
 * Builds every part, group by group (assembly/), listens, and returns once the server accepts
 * connections. What can be checked cheaply is checked before anything is opened; a later failure
 * closes what was opened, so a failed start leaves nothing running.
 */
export async function startServer(input: ServerConfigInput, deps: VoxgateServerDeps = {}): Promise<VoxgateServer> {
  const config = parseConfig(input)
  const clock = deps.clock ?? systemClock
  const logger = deps.logger ?? createLogger(config.logLevel, undefined, config.logFormat)
  const { https, devTls, upstream, openAiVoiceMap } = await preflight(config, logger)
  const opened = new UndoStack()
  if (upstream) opened.push(() => upstream.close())
  try {
    const core = await openCore({ config, clock, logger, store: deps.store, opened })
    const operations = openOperations(core.parts, opened)
    const auth = await openAuth(core.parts)
    const accounting = await openAccounting({ ...auth, ...operations.parts }, opened)
    const speech = await openSpeech(core.parts, { speech: deps.speech, redis: accounting.parts.shared.redis }, opened)
    const features = openFeatures(
      accounting.parts,
      { audioMeter: accounting.audioMeter, engines: speech.engines, upstream, openAiVoiceMap },
      opened,
    )
    const ctx: AppContext = { ...operations.parts, ...auth, ...accounting.parts, ...speech.parts, ...features }
    const closeAfterApp = [speech.close, accounting.close, core.close, () => upstream?.close()]
    const serving = await serve(ctx, { https, deliverer: operations.deliverer, closeAfterApp, opened })
    return { ...serving, ctx, devTls }
  } catch (err) {
    await opened.run()
    throw err
  }
}
