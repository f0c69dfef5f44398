import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ensureDevTls } from '@voxgate/server'

/**
 * Runs `node <execArgv> <args>` (by default `--import tsx`, for a TypeScript entry) with a fresh test CA trusted through NODE_EXTRA_CA_CERTS (which
 * Node reads only at start-up) and VOXGATE_TEST_TLS_DIR pointing at its localhost certificate, so
 * tests and benches use real, verified TLS everywhere; and one STT calibration file in that folder.
 * Exits with the child's code.
 */
export async function runWithTestCa(args: string[], execArgv = ['--import', 'tsx']): Promise<never> {
  const code = await spawnWithTestCa(args, execArgv)
  process.exit(code)
}

/** runWithTestCa's child, resolving with its exit code (1 when a signal ended it) instead of exiting. */
export async function spawnWithTestCa(args: string[], execArgv = ['--import', 'tsx']): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-test-tls-'))
  const tls = await ensureDevTls(dir)
  const child = spawn(process.execPath, [...execArgv, ...args], {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: tls.caFile,
      VOXGATE_TEST_TLS_DIR: dir,
      // Every server of the run, in-process or `voxgate serve`, keeps the speech recognisers' calibration
      // in this one file (`--stt-calibration-file`): the first recogniser of the run calibrates, and each
      // later one, in any process, starts from it instead of spending seconds of CPU doing the same again.
      VOXGATE_STT_CALIBRATION_FILE: path.join(dir, 'stt-calibration.json'),
    },
  })
  return new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}
