import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** The built CLI (`npm test` builds dist/ first). */
export const BIN = path.resolve(import.meta.dirname, '../../bin/voxgate.mjs')

export interface ServeRun {
  child: ChildProcess
  stdout(): string
  stderr(): string
  exited: Promise<{ code: number | null; elapsedMs: number }>
  /** The URL from the `voxgate listening on …` line, once printed. */
  url(): string | undefined
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
}

/**
 * One speech worker, not warmed, for a `voxgate serve` a test starts: these servers speak a sentence or
 * two at most, and each worker costs seconds of CPU to warm its engines (two by default on a 2-core
 * runner), which changes how fast the first sentences come, never what they are.
 */
export const TEST_SPEECH_WORKERS = ['--speech-workers', '1', '--speech-cold-start']

/** `voxgate serve` in a child process with piped stdout and stderr, as a service manager runs it. */
export function spawnServe(dataDir: string, args: string[], env: Record<string, string> = {}): ServeRun {
  const started = Date.now()
  const serve = [BIN, 'serve', '--host', '127.0.0.1', '--data', dataDir, ...TEST_SPEECH_WORKERS, ...args]
  const child = spawn(process.execPath, serve, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => {
    stdout += d
  })
  child.stderr!.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise<{ code: number | null; elapsedMs: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, elapsedMs: Date.now() - started })),
  )
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    url: () => /voxgate listening on (\S+)/.exec(stderr)?.[1],
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      return (await exited).code
    },
  }
}

/** Polls `check` every 100 ms; fails naming `what` after `ms`. */
export async function waitFor(check: () => boolean, what: string, ms = 120_000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100)) if (check()) return
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/** Waits until the server listens and has handed over its first key (or said there is none to hand over). */
export async function listening(run: ServeRun): Promise<string> {
  // Start-up (speech workers warming) takes seconds on a loaded runner; a minute or two is not a bug.
  await waitFor(() => run.url() !== undefined || run.child.exitCode !== null, 'the server to listen')
  const url = run.url()
  if (!url) throw new Error(`voxgate serve exited: ${run.stderr()}`)
  return url
}
