import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startTestServer, testTls, type TestServer } from '../../../../packages/server/test/helpers/server.ts'
import { startWebApp, type WebApp } from '../../src/app.ts'
import type { AppConfigInput } from '../../src/config.ts'

export const TOKEN_COOKIE = 'voxgate_token'

export interface Stack {
  voice: TestServer
  app: WebApp
  /** The browser's view of voxgate: same site as the app (localhost), another port. */
  voicePublicUrl: string
  /** Every log line the app wrote. */
  appLogs: string[]
  close(): Promise<void>
}

/** A free TCP port: the app's origin must be known before voxgate starts (its allowlist). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/**
 * voxgate (real TLS, SQLite, deterministic speech) and the example app, wired for one token mode.
 * Cookie mode is the same-site deployment (voxgate allowlists the app's origin and reads the cookie);
 * memory mode is the cross-site one (no allowlist, bearer tokens only). Clock tolerance 0, so an
 * expired token really is refused and speaking across lifetimes proves the refreshes.
 */
export async function startStack(
  mode: 'cookie' | 'memory',
  tokenLifetimeSeconds: number,
  extra: Partial<AppConfigInput> = {},
): Promise<Stack> {
  const appPort = await freePort()
  const origin = `https://localhost:${appPort}`
  const voice = await startTestServer({
    clockToleranceSeconds: 0,
    ...(mode === 'cookie' && { allowedOrigins: [origin], tokenCookieName: TOKEN_COOKIE }),
  })
  const dbDir = mkdtempSync(path.join(tmpdir(), 'voxgate-web-app-'))
  const tls = testTls()
  const appLogs: string[] = []
  const voicePublicUrl = voice.url.replace('127.0.0.1', 'localhost')
  const app = await startWebApp({
    port: appPort,
    tls: { cert: readFileSync(tls.tlsCertFile), key: readFileSync(tls.tlsKeyFile) },
    voiceApiUrl: voice.url,
    voicePublicUrl,
    apiKey: voice.apiKey,
    tokenMode: mode,
    tokenCookieName: TOKEN_COOKIE,
    tokenLifetimeSeconds,
    databaseFile: path.join(dbDir, 'app.sqlite'),
    log: (line) => appLogs.push(line),
    ...extra,
  })
  return {
    voice,
    app,
    voicePublicUrl,
    appLogs,
    async close() {
      await app.close()
      await voice.close()
      rmSync(dbDir, { recursive: true, force: true })
    },
  }
}
