import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { VoxgateError } from '@voxgate/protocol'
import type { AppContext } from '../app/app-context.ts'
import { buildApp, type HttpsOptions } from '../app/app.ts'
import { createWebSocketTransport } from '../app/websocket-router.ts'
import { appFeatures } from '../app/route-table.ts'
import { startHousekeeping } from '../housekeeping.ts'
import { startMetricsListener } from '../metrics/listener.ts'
import { listenError } from '../port-check.ts'
import type { UndoStack } from '../undo-stack.ts'
import type { WebhookDeliverer } from '../webhooks/deliverer.ts'

/** How long a shutdown waits for open streams to send their terminal events. */
const SHUTDOWN_DRAIN_MS = 2000

export interface ServeInput {
  https: HttpsOptions | undefined
  deliverer: WebhookDeliverer
  /** What closes once the app has: speech engines, shared state, the store, the upstream; in that order. */
  closeAfterApp: readonly (() => unknown)[]
  opened: UndoStack
}

export interface Serving {
  url: string
  port: number
  /** `http://host:port/metrics` with `--metrics`, else undefined. */
  metricsUrl: string | undefined
  close(): Promise<void>
}

/**
 * Builds the app and the WebSocket router on the context, listens, then starts what runs in the
 * background (store poll, webhook delivery, housekeeping). `close` drains as load balancers expect.
 */
export async function serve(ctx: AppContext, input: ServeInput): Promise<Serving> {
  const { config, logger, streams, sync } = ctx
  const { deliverer } = input
  // The route table, local or relayed speech chosen once: the app and the WebSocket router serve the same list.
  const features = appFeatures(ctx)
  const app = buildApp(ctx, input.https, { features })
  // A request on a connection means the reader took what it sent before: its stream's tail is over.
  app.server.prependListener('request', (req: IncomingMessage) => streams.tails.moved(req.socket))
  const ws = createWebSocketTransport(ctx, { features })
  app.server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head))
  input.opened.push(() => app.close())
  await app.listen({ host: config.host, port: config.port }).catch((err: unknown) => {
    throw listenError(err, config.host, config.port)
  })
  const metricsListener =
    ctx.metrics.registry && (await startMetricsListener(ctx.metrics.registry, config.metricsHost, config.metricsPort))
  sync.start(config.storePollMs)
  deliverer.start()
  const stopHousekeeping = startHousekeeping(
    ctx.store,
    ctx.clock,
    {
      intervalMs: config.housekeepingIntervalMs,
      toleranceSeconds: config.clockToleranceSeconds,
      auditRetentionDays: config.auditRetentionDays,
    },
    logger,
  )
  const port = (app.server.address() as AddressInfo).port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? 'localhost' : config.host
  return {
    url: `${input.https ? 'https' : 'http'}://${host}:${port}`,
    port,
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
      await app.close()
      for (const step of input.closeAfterApp) await step()
      await metricsListener?.close()
      logger.info('stopped')
    },
  }
}
