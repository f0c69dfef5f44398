/**
 * A test file whose service is missing fails at once with one line naming the service and how to
 * start it, never hanging (node-redis retries a first connection for ever): VOXGATE_TEST_POSTGRES_URL
 * and VOXGATE_TEST_REDIS_URL pointed at a closed loopback port, one dependent file run in a child.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'

/**
 * A file that hangs is killed after this and fails the test (exit code null, not 1). No tighter wall-clock
 * bound is asserted: nearly all of a failing file's time is loading it (tsx compiles its imports before
 * any of them runs: 2-3 s on a quiet 2-core machine, 20 s at a load average of 22), and the probe itself
 * answers at once, as a closed loopback port refuses the connection. The old helpers hung for ever
 * (node-redis retries a first connection), which this still catches. Each file's time is reported.
 */
const HANG_KILL_MS = 60_000

async function closedPort(): Promise<number> {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as net.AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** Runs one test file directly (node, tsx) with `env`; its exit code, output and wall time. */
function runFile(file: string, env: Record<string, string>) {
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, file)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), HANG_KILL_MS)
  let output = ''
  child.stdout.on('data', (d) => {
    output += d
  })
  child.stderr.on('data', (d) => {
    output += d
  })
  return new Promise<{ code: number | null; output: string; elapsedMs: number }>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, output, elapsedMs: Date.now() - started })
    }),
  )
}

describe('a missing service fails the file that needs it at once, with one line', () => {
  test('PostgreSQL and Redis at a closed port: the line names the service, the address and how to start it', async (t) => {
    const [pgPort, redisPort] = [await closedPort(), await closedPort()]
    const cases: { file: string; env: Record<string, string>; line: string }[] = [
      {
        file: 'store/postgres-outage.test.ts',
        env: { VOXGATE_TEST_POSTGRES_URL: `postgres://someone@127.0.0.1:${pgPort}/any_database` },
        line: `PostgreSQL is not reachable at 127.0.0.1:${pgPort} (ECONNREFUSED); start it (.ci/run does: pg_ctlcluster <version> main start) with a database \`test\`, or set VOXGATE_TEST_POSTGRES_URL=postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`,
      },
      {
        file: 'cluster/redis.test.ts',
        env: { VOXGATE_TEST_REDIS_URL: `redis://127.0.0.1:${redisPort}/0` },
        line: `Redis is not reachable at 127.0.0.1:${redisPort} (ECONNREFUSED); start it (.ci/run does: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no), or set VOXGATE_TEST_REDIS_URL=redis://HOST:PORT/DB`,
      },
    ]
    // One after the other: two files loading at once would each take longer on two cores.
    for (const { file, env, line } of cases) {
      const r = await runFile(file, env)
      assert.equal(r.code, 1, `${file} exited by itself with 1 (null: it hung and was killed after ${HANG_KILL_MS} ms)`)
      assert.equal(r.output, `${line}\n`, 'the one line, and nothing else')
      t.diagnostic(`${file} failed in ${r.elapsedMs} ms`)
    }
  })
})
