import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { createClient } from 'redis'
import { needed, requireCommand, requireService, serviceAt } from './services.ts'

/**
 * The machine's shared Redis (never stopped by tests); each run works under its own key prefix.
 * VOXGATE_TEST_REDIS_URL points the tests at another one.
 */
export const SHARED_REDIS_URL = process.env.VOXGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0'

// Every file that imports this uses the shared Redis: without it, the file fails here with one line
// (node-redis would otherwise retry its first connection for ever).
await needed(() =>
  requireService({
    name: 'Redis',
    ...serviceAt(SHARED_REDIS_URL, 6379),
    howToStart:
      'start it (.ci/run does: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no), or set VOXGATE_TEST_REDIS_URL=redis://HOST:PORT/DB',
  }),
)

export const uniquePrefix = (): string => `voxgate-test-${randomBytes(6).toString('hex')}:`

/** Deletes every key under `prefix` (a test run's own keys). */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url })
  await client.connect()
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 }))
      if (keys.length > 0) await client.del(keys)
  } finally {
    await client.close()
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

/**
 * A `redis-server` of the test's own on a free loopback port, which the test may stop and start
 * again (fault tests never touch the machine's shared Redis).
 */
export class OwnRedis {
  #child: ChildProcess | undefined
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort())
    await r.start()
    return r
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`
  }

  async start(): Promise<void> {
    requireCommand('redis-server', 'install it (apt-get install redis-server), as fault tests run a Redis of their own')
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.#child = child
    await new Promise<void>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (d: Buffer) => {
        out += d
        if (out.includes('Ready to accept connections')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)))
    })
  }

  /** Stops it hard, as a crash would (nothing saved: it comes back empty). */
  async stop(): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
}
