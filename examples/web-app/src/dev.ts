/**
 * `npm run example`: voxgate (real speech engines) and the example app, together, on this machine.
 *
 *   EXAMPLE_TOKEN_MODE=cookie|memory   how the token reaches the browser (default cookie)
 *   EXAMPLE_APP_PORT, EXAMPLE_VOICE_PORT   default 4443 and 8444
 *   EXAMPLE_TOKEN_LIFETIME             token lifetime in seconds (default 60)
 *
 * Data (SQLite, the app's API key, logs) lives in .voxgate/example; TLS reuses voxgate's
 * development CA in .voxgate/tls, so trusting .voxgate/tls/dev-ca.pem once covers both servers.
 */
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createKey, createLogger, ensureDevTls, startServer, type DevTls, type VoxgateServer } from '@voxgate/server'
import { startWebApp } from './app.ts'

const root = path.resolve(import.meta.dirname, '..', '..', '..')
const dataDir = path.join(root, '.voxgate', 'example')
const COOKIE = 'voxgate_token'

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  const n = raw === undefined ? fallback : Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new TypeError(`${name} must be an integer`)
  return n
}

/** Node trusts extra CAs only from NODE_EXTRA_CA_CERTS at start-up, so run again with it set. */
function rerunTrusting(tls: DevTls): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caFile },
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
  child.on('exit', (code) => process.exit(code ?? 0))
}

/** The app's API key: created on the first run, kept (0600) in the data folder, never printed. */
async function appApiKey(server: VoxgateServer): Promise<string> {
  const file = path.join(dataDir, 'app-api-key.json')
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { id: string; key: string }
    const live = (await server.ctx.store.listApiKeys()).some((k) => k.id === saved.id && k.revokedAt === null)
    if (live) return saved.key
  }
  const created = await createKey(server.ctx.store, 'example web app', Date.now())
  writeFileSync(file, JSON.stringify({ id: created.id, key: created.key }), { mode: 0o600 })
  return created.key
}

async function main(): Promise<void> {
  const tls = await ensureDevTls(path.join(root, '.voxgate', 'tls'))
  if (tls.created)
    process.stderr.write(`First run: trust ${tls.caFile} as a certificate authority in your browser (see README).\n`)
  if (process.env.NODE_EXTRA_CA_CERTS !== tls.caFile) return rerunTrusting(tls)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const appPort = intEnv('EXAMPLE_APP_PORT', 4443)
  const voicePort = intEnv('EXAMPLE_VOICE_PORT', 8444)
  const mode = process.env.EXAMPLE_TOKEN_MODE ?? 'cookie'
  if (mode !== 'cookie' && mode !== 'memory') throw new TypeError('EXAMPLE_TOKEN_MODE is cookie or memory')
  const appOrigin = `https://localhost:${appPort}`
  const logs = (name: string) => createWriteStream(path.join(dataDir, name), { flags: 'a' })

  const voice = await startServer(
    {
      dataDir,
      host: '127.0.0.1',
      port: voicePort,
      tlsCertFile: tls.certFile,
      tlsKeyFile: tls.keyFile,
      allowedOrigins: [appOrigin],
      tokenCookieName: COOKIE,
    },
    { logger: createLogger('info', logs('voxgate.log')) },
  )
  const appLog = logs('app.log')
  const app = await startWebApp({
    port: appPort,
    tls: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
    voiceApiUrl: voice.url,
    voicePublicUrl: `https://localhost:${voicePort}`,
    apiKey: await appApiKey(voice),
    tokenMode: mode,
    tokenCookieName: COOKIE,
    tokenLifetimeSeconds: intEnv('EXAMPLE_TOKEN_LIFETIME', 60),
    databaseFile: path.join(dataDir, 'app.sqlite'),
    log: (line) => appLog.write(`${line}\n`),
  })
  const answers = await Promise.all([fetch(`${voice.url}/`), fetch(`${app.url}/sign-in`)])
  if (!answers.every((r) => r.ok)) throw new Error('voxgate or the app did not answer')
  process.stdout.write(`Open ${app.url}\n`)
  const stop = async () => {
    await app.close()
    await voice.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`example failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
