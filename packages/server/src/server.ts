import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { Logger } from 'pino'
import { VoxgateError } from '@voxgate/protocol'
import { Authenticator } from './auth/authenticator.ts'
import { ensureSigningKey, KeyRing } from './auth/key-ring.ts'
import { RevocationList } from './auth/revocations.ts'
import { TokenService } from './auth/tokens.ts'
import { systemClock, type Clock } from './clock.ts'
import { parseConfig, type ServerConfig, type ServerConfigInput } from './config.ts'
import type { ServerContext } from './context.ts'
import { buildApp, type HttpsOptions } from './http/app.ts'
import { createLogger } from './logger.ts'
import { startMetricsListener } from './metrics/listener.ts'
import { NO_METRICS, observeRedis } from './metrics/metrics.ts'
import { meteredSpeech } from './metrics/speech.ts'
import { meteredStore } from './metrics/store.ts'
import { StateSync } from './state-sync.ts'
import { openStore } from './store/open.ts'
import { isStoreOutage } from './store/errors.ts'
import { withRequestDeadline } from './store/deadline.ts'
import { faultReportingStore } from './store/fault-reporting.ts'
import { FaultLog } from './fault-log.ts'
import { startHousekeeping } from './housekeeping.ts'
import type { Store } from './store/types.ts'
import { CharacterBudgets } from './streams/budgets.ts'
import { Upstream } from './gateway/upstream.ts'
import { findFfmpeg } from './openai/ffmpeg.ts'
import { loadOpenAiVoiceMap } from './openai/voice-map.ts'
import { checkUpstream } from './gateway/start-check.ts'
import { openCircuitBreaker } from './gateway/open-circuit.ts'
import { localFallback } from './gateway/open-fallback.ts'
import { openTtsCache } from './tts/open-cache.ts'
import { QuotaBook } from './quotas/book.ts'
import { QuotaSync } from './quotas/sync.ts'
import { UsageMeter } from './quotas/meter.ts'
import { StreamRefusals } from './streams/refusals.ts'
import { openSharedState } from './shared/shared-state.ts'
import { StreamRegistry } from './streams/registry.ts'
import { ensureDevTls, readTls, type DevTls } from './tls/dev-ca.ts'
import { assertCanListen, listenError } from './port-check.ts'
import { UndoStack } from './undo-stack.ts'
import { createWebSocketTransport } from './transports/websocket/upgrade.ts'
import { createSttService } from './stt/service.ts'
import { createSpeechService } from './tts/index.ts'
import { ConsoleSessions } from './console/sessions.ts'
import { StreamCounts } from './console/stream-counts.ts'
import { loadConsoleAssets } from './console/assets.ts'
import type { SpeechService } from './tts/types.ts'
import { WebhookAdmin } from './webhooks/admin.ts'
import { WebhookDeliverer } from './webhooks/deliverer.ts'
import { Outbox } from './webhooks/outbox.ts'
import { announceThreshold } from './webhooks/quota-alerts.ts'

/** How long a shutdown waits for open streams to send their terminal events. */
const SHUTDOWN_DRAIN_MS = 2000

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
  ctx: ServerContext
  /** Set when a development certificate is in use. */
  devTls: DevTls | undefined
  /** `http://host:port/metrics` with `--metrics`, else undefined. */
  metricsUrl: string | undefined
  close(): Promise<void>
}

/**
 * Builds every part, listens, and returns once the server accepts connections. What can be checked
 * cheaply (TLS files, the port, the upstream's answer to its key) is checked before anything is
 * opened; a later failure closes what was opened, so a failed start leaves nothing running.
 */
export async function startServer(input: ServerConfigInput, deps: VoxgateServerDeps = {}): Promise<VoxgateServer> {
  const config = parseConfig(input)
  const clock = deps.clock ?? systemClock
  const logger = deps.logger ?? createLogger(config.logLevel, undefined, config.logFormat)
  const { https, devTls } = await tlsFor(config)
  // Before anything is opened: `--console` without the built console stops the start.
  if (config.console) loadConsoleAssets()
  await assertCanListen(config.host, config.port)
  const openAiVoiceMap = config.openAiVoiceMapFile ? loadOpenAiVoiceMap(config.openAiVoiceMapFile) : undefined
  const upstream =
    config.upstreamUrl !== undefined && config.upstreamApiKey !== undefined
      ? new Upstream({
          url: config.upstreamUrl,
          apiKey: config.upstreamApiKey,
          timeoutMs: config.upstreamTimeoutMs,
          idleMs: config.upstreamIdleMs,
        })
      : undefined
  // Before anything is opened: a key the upstream refuses stops the start with nothing to clean up.
  if (upstream) await checkUpstream(upstream, logger)
  const opened = new UndoStack()
  if (upstream) opened.push(() => upstream.close())
  try {
    return await assemble({ config, clock, logger, https, devTls, upstream, openAiVoiceMap, deps, opened })
  } catch (err) {
    await opened.run()
    throw err
  }
}

interface AssembleInput {
  config: ServerConfig
  clock: Clock
  logger: Logger
  https: HttpsOptions | undefined
  devTls: DevTls | undefined
  upstream: Upstream | undefined
  openAiVoiceMap: ReadonlyMap<string, string> | undefined
  deps: VoxgateServerDeps
  /** Every part opened is pushed here, so a failure further on closes it. */
  opened: UndoStack
}

async function assemble(input: AssembleInput) {
  const { config, clock, logger, https, devTls, upstream, openAiVoiceMap, deps, opened } = input
  const metrics = config.metrics ? (await import('./metrics/prometheus.ts')).createMetrics() : NO_METRICS
  const ownStore = deps.store ?? (await openStore(config))
  if (!deps.store) opened.push(() => ownStore.close())
  const storeFaults = new FaultLog({ logger, dependency: 'store', clock })
  // A request waits for the store at most its deadline; every outage is logged once per period.
  const store = faultReportingStore(
    meteredStore(withRequestDeadline(ownStore, config.storeRequestTimeoutMs), metrics),
    storeFaults,
  )
  await ensureSigningKey(store, clock.now())
  const keyRing = new KeyRing()
  const revocations = new RevocationList()
  const sync = new StateSync(store, keyRing, revocations, logger)
  keyRing.onUnknownKid(() => sync.refresh())
  await sync.refresh()
  const tokens = new TokenService(
    {
      issuer: config.issuer,
      audience: config.audience,
      clockToleranceSeconds: config.clockToleranceSeconds,
      cacheSize: config.tokenCacheSize,
    },
    keyRing,
    revocations,
    clock,
  )
  const shared = await openSharedState(config, store, clock, logger)
  opened.push(() => shared.close())
  observeRedis(shared.redis, metrics)
  const speech =
    deps.speech ??
    (await createSpeechService({
      ...(config.speechWorkers !== undefined && { workers: config.speechWorkers }),
      warm: !config.speechColdStart,
    }))
  if (!deps.speech) opened.push(() => speech.close())
  const streams = new StreamRegistry(revocations, shared.slots, metrics.streams)
  sync.onChange(() => streams.sweep())
  const quotas = new QuotaBook()
  const quotaSync = new QuotaSync(quotas, store, clock)
  // Those already set were aligned with the ledger where they were set.
  await quotaSync.reload({ align: false })
  const reloadQuotas = () =>
    quotaSync.reload().catch((err: unknown) => {
      if (!isStoreOutage(err)) logger.error({ err }, 'quotas reload failed')
    })
  // Quota changes move the store's version, so another instance's change reaches this one's poll.
  sync.onChange(reloadQuotas)
  // A revocation or quota change made on another instance reaches this one at once; after a Redis
  // reconnect the store is re-read, since messages published meanwhile are lost.
  const bus = shared.revocationBus
  if (bus) quotaSync.notifyOthers = () => bus.publishQuotasChanged()
  await bus?.subscribe({
    revoked: (r) => {
      revocations.add(r)
      streams.sweep()
    },
    quotasChanged: () => void reloadQuotas(),
    reconnected: () => void sync.refresh().catch(() => undefined),
  })
  const webhookPolicy = { allowPrivate: config.webhookAllowPrivate }
  const deliverer = new WebhookDeliverer({ store, clock, logger, policy: webhookPolicy, pollMs: config.storePollMs })
  opened.push(() => deliverer.stop())
  const outbox = new Outbox(store, () => deliverer.wake())
  const characterMeter = new UsageMeter(store, quotas, clock, 'characters', logger)
  const audioMeter = new UsageMeter(store, quotas, clock, 'audio', logger)
  characterMeter.onThreshold = audioMeter.onThreshold = announceThreshold(outbox, () => clock.now())
  const ctx: ServerContext = {
    config,
    clock,
    store,
    keyRing,
    revocations,
    tokens,
    authenticator: new Authenticator(store, tokens, revocations, clock),
    sync,
    speech: meteredSpeech(speech, metrics),
    streams,
    logger,
    metrics,
    quotas: quotaSync,
    budgets: new CharacterBudgets(store, characterMeter, clock, logger),
    refusals: new StreamRefusals(store, clock, logger),
    stt: createSttService(
      {
        maxStreams: config.sttMaxStreams,
        wsMaxPayloadBytes: config.wsMaxPayloadBytes,
        modelDir: config.sttModelDir,
        calibrationFile: config.sttCalibrationFile ?? path.join(config.dataDir, 'stt-calibration.json'),
      },
      store,
      audioMeter,
      clock,
      logger,
    ),
    rateLimiter: shared.rateLimiter,
    shared,
    outbox,
    webhooks: new WebhookAdmin(store, clock, webhookPolicy, () => deliverer.wake()),
    ...(upstream && { upstream, circuit: openCircuitBreaker({ config, clock, upstream, redis: shared.redis }) }),
    ...(config.fallback === 'local' && { fallback: localFallback(config, speech) }),
    ...(config.ttsCacheMb > 0 && { ttsCache: openTtsCache(config, clock, shared.redis) }),
    ...(openAiVoiceMap && { openAiVoiceMap }),
    ...withFfmpeg(config.ffmpegPath, logger),
  }
  opened.push(() => ctx.stt.close())
  if (config.console) {
    ctx.console = new ConsoleSessions(store, ctx.authenticator, clock)
    const counts = new StreamCounts(streams, shared.redis, clock)
    ctx.streamCounts = counts
    counts.start()
    opened.push(() => counts.close())
  }
  const circuit = ctx.circuit
  if (circuit) metrics.upstreamCircuit(() => circuit.state())

  const app = buildApp(ctx, https)
  // A request on a connection means the reader took what it sent before: its stream's tail is over.
  app.server.prependListener('request', (req: IncomingMessage) => streams.tails.moved(req.socket))
  const ws = createWebSocketTransport(ctx)
  app.server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head))
  opened.push(() => app.close())
  await app.listen({ host: config.host, port: config.port }).catch((err: unknown) => {
    throw listenError(err, config.host, config.port)
  })
  const metricsListener =
    metrics.registry && (await startMetricsListener(metrics.registry, config.metricsHost, config.metricsPort))
  sync.start(config.storePollMs)
  deliverer.start()
  const stopHousekeeping = startHousekeeping(
    store,
    clock,
    {
      intervalMs: config.housekeepingIntervalMs,
      toleranceSeconds: config.clockToleranceSeconds,
      auditRetentionDays: config.auditRetentionDays,
    },
    logger,
  )
  const port = (app.server.address() as AddressInfo).port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? 'localhost' : config.host
  const url = `${https ? 'https' : 'http'}://${host}:${port}`
  return {
    url,
    port,
    ctx,
    devTls,
    metricsUrl: metricsListener?.url,
    async close() {
      // A graceful drain, as load balancers expect: not ready at once, no new streams, open ones
      // get up to drainMs to finish by themselves.
      logger.info({ drain_ms: config.drainMs }, 'draining')
      streams.startDraining()
      await streams.waitForStreams(config.drainMs)
      sync.stop()
      stopHousekeeping()
      await deliverer.stop()
      // Every open stream gets its terminal event before connections go: WebSockets first (1001),
      // then SSE and bytes responses; Fastify then waits for those to finish.
      ws.close()
      await ctx.stt.close()
      await streams.endAll(new VoxgateError('connection_closing', 'The server is shutting down.'), SHUTDOWN_DRAIN_MS)
      await ctx.streamCounts?.close()
      await app.close()
      if (!deps.speech) await speech.close()
      await shared.close()
      if (!deps.store) await store.close()
      await metricsListener?.close()
      upstream?.close()
      logger.info('stopped')
    },
  } satisfies VoxgateServer
}

/** The ffmpeg for OpenAI's `aac`, looked for once; its absence is said once, where operators look. */
function withFfmpeg(configured: string | undefined, logger: Logger): { ffmpeg?: string } {
  const ffmpeg = findFfmpeg(configured)
  if (ffmpeg) return { ffmpeg }
  logger.info({ ffmpeg: configured ?? 'PATH' }, 'no ffmpeg found: response_format aac is refused')
  return {}
}

async function tlsFor(config: ServerConfig): Promise<{ https: HttpsOptions | undefined; devTls: DevTls | undefined }> {
  if (config.insecureHttpBehindProxy) return { https: undefined, devTls: undefined }
  if (config.tlsCertFile && config.tlsKeyFile)
    return { https: readTls(config.tlsCertFile, config.tlsKeyFile), devTls: undefined }
  const devTls = await ensureDevTls(path.join(config.dataDir, 'tls'))
  return { https: readTls(devTls.certFile, devTls.keyFile), devTls }
}
