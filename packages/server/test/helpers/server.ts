import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ServerConfigInput } from '../../src/config.ts'
import { createKey } from '../../src/keys/create-key.ts'
import { startServer, type VoxgateServer, type VoxgateServerDeps } from '../../src/server.ts'
import { createLogger } from '../../src/logger.ts'
import { createDeterministicSpeech } from './inline-runner.ts'
import { LogCapture } from './log-capture.ts'
import { TEST_KEK } from './kek.ts'

export interface TestServer {
  server: VoxgateServer
  url: string
  /** An API key created for the test. */
  apiKey: string
  apiKeyId: string
  dataDir: string
  logs: LogCapture
  /** Closes the server; `keepData` leaves the folder for a restart test. */
  close(opts?: { keepData?: boolean }): Promise<void>
}

/** The TLS files `npm test` created (scripts/test.ts); NODE_EXTRA_CA_CERTS trusts their CA. */
export function testTls(): { tlsCertFile: string; tlsKeyFile: string } {
  const dir = process.env.VOXGATE_TEST_TLS_DIR
  if (!dir) throw new Error('run tests through `npm test` (scripts/test.ts), which sets up the test CA')
  return { tlsCertFile: path.join(dir, 'dev-cert.pem'), tlsKeyFile: path.join(dir, 'dev-key.pem') }
}

export type TestServerOptions = Partial<ServerConfigInput> & {
  /** `real`: the real engines in worker threads (what production runs). @default 'deterministic' */
  speech?: 'real' | 'deterministic'
  /**
   * `--store`: e.g. `testSchema().url()` (helpers/postgres.ts) for PostgreSQL in a schema of the test's
   * own; the process-wide test key-encryption key is used unless `keyEncryptionKey` is given.
   * @default the SQLite store in the temp data folder
   */
  store?: string
}

/**
 * A real voxgate on 127.0.0.1, an ephemeral port, real TLS and a real store: SQLite in a temp folder,
 * or PostgreSQL with `store`.
 * Speech is the deterministic engine (the one part tests swap) unless the test asks for the real one.
 */
export async function startTestServer(
  options: TestServerOptions = {},
  deps: VoxgateServerDeps = {},
): Promise<TestServer> {
  const { speech: engine = 'deterministic', store, ...config } = options
  if (store !== undefined)
    Object.assign(config, { storeUrl: store, keyEncryptionKey: config.keyEncryptionKey ?? TEST_KEK })
  const dataDir = config.dataDir ?? mkdtempSync(path.join(tmpdir(), 'voxgate-test-'))
  const logs = new LogCapture()
  const speech = deps.speech ?? (engine === 'deterministic' ? await createDeterministicSpeech() : undefined)
  // The run's shared calibration file (scripts/test-ca.ts), as `voxgate serve` would read it from the environment.
  const sttCalibrationFile = process.env.VOXGATE_STT_CALIBRATION_FILE
  const server = await startServer(
    {
      port: 0,
      speechWorkers: 1,
      storePollMs: 100,
      logLevel: 'info',
      drainMs: 0,
      // Real speech (`speech: 'real'`) unwarmed, as TEST_SPEECH_WORKERS (helpers/cli.ts) says why.
      speechColdStart: true,
      ...(sttCalibrationFile && { sttCalibrationFile }),
      ...testTls(),
      ...config,
      dataDir,
    },
    { logger: createLogger('info', logs), ...deps, ...(speech && { speech }) },
  )
  // A server whose set-up fails is closed before the error goes on: left listening, it would keep the
  // test file's process alive until the file's timeout instead of failing it at once.
  const key = await createKey(server.ctx.store, 'test', Date.now(), { scopes: ['admin'] }).catch(async (err) => {
    await server.close()
    if (speech && !deps.speech) await speech.close()
    throw err
  })
  return {
    server,
    url: server.url,
    apiKey: key.key,
    apiKeyId: key.id,
    dataDir,
    logs,
    async close(opts = {}) {
      await server.close()
      if (speech && !deps.speech) await speech.close()
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
