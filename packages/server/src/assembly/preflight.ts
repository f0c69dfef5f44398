import path from 'node:path'
import type { Logger } from 'pino'
import type { HttpsOptions } from '../app/app.ts'
import type { ServerConfig } from '../config.ts'
import { loadConsoleAssets } from '../console/assets.ts'
import { checkUpstream } from '../gateway/start-check.ts'
import { Upstream } from '../gateway/upstream.ts'
import { loadOpenAiVoiceMap } from '../openai/voice-map.ts'
import { assertCanListen } from '../port-check.ts'
import { type DevTls, ensureDevTls, readTls } from '../tls/dev-ca.ts'

export interface Preflight {
  https: HttpsOptions | undefined
  /** Set when a development certificate is in use. */
  devTls: DevTls | undefined
  /** Gateway mode: the upstream, whose key it accepted. */
  upstream: Upstream | undefined
  openAiVoiceMap: ReadonlyMap<string, string> | undefined
}

/**
 * What can be checked cheaply before anything is opened: TLS files, the built console, the port, the
 * OpenAI voice map, and the upstream's answer to its key. A failure here leaves nothing to clean up
 * (the upstream's connections are closed if it refuses).
 */
export async function preflight(config: ServerConfig, logger: Logger): Promise<Preflight> {
  const { https, devTls } = await tlsFor(config)
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
  if (upstream)
    await checkUpstream(upstream, logger).catch((err: unknown) => {
      upstream.close()
      throw err
    })
  return { https, devTls, upstream, openAiVoiceMap }
}

async function tlsFor(config: ServerConfig): Promise<{ https: HttpsOptions | undefined; devTls: DevTls | undefined }> {
  if (config.insecureHttpBehindProxy) return { https: undefined, devTls: undefined }
  if (config.tlsCertFile && config.tlsKeyFile)
    return { https: readTls(config.tlsCertFile, config.tlsKeyFile), devTls: undefined }
  const devTls = await ensureDevTls(path.join(config.dataDir, 'tls'))
  return { https: readTls(devTls.certFile, devTls.keyFile), devTls }
}
