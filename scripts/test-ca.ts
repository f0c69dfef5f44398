import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ensureDevTls } from '@voxgate/server'
import { MODEL_DIR } from '../packages/server/src/stt/pocketsphinx.ts'
import { RecognizerPool } from '../packages/server/src/stt/pool.ts'

/**
 * Runs `node --import tsx <args>` (a TypeScript entry: benches) with a fresh test CA trusted through NODE_EXTRA_CA_CERTS (which
 * Node reads only at start-up) and VOXGATE_TEST_TLS_DIR pointing at its localhost certificate, so
 * tests and benches use real, verified TLS everywhere; and one STT calibration file in that folder.
 * Exits with the child's code.
 */
export async function runWithTestCa(args: string[]): Promise<never> {
  const code = await spawnWithTestCa(args)
  process.exit(code)
}

/** The run's TLS folder: a fresh test CA and localhost certificate, and where the STT calibration is kept. */
export interface TestCa {
  dir: string
  caFile: string
  calibrationFile: string
}

/**
 * Makes the run's test CA and, with `calibrateStt`, writes its STT calibration file (calibrateOnce says
 * why). `npm test` starts this first, so the calibration runs beside the build and the bundling.
 */
export async function prepareTestCa(options: { calibrateStt?: boolean } = {}): Promise<TestCa> {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-test-tls-'))
  const calibrationFile = path.join(dir, 'stt-calibration.json')
  const [tls] = await Promise.all([ensureDevTls(dir), options.calibrateStt && calibrateOnce(calibrationFile)])
  return { dir, caFile: tls.caFile, calibrationFile }
}

/** runWithTestCa's child, resolving with its exit code (1 when a signal ended it) instead of exiting. */
export interface TestCaRun {
  /** Node's flags for the child. @default ['--import', 'tsx'], for a TypeScript entry */
  execArgv?: string[]
  /** The CA to run under (prepareTestCa's). @default a fresh one, without STT calibration */
  ca?: Promise<TestCa>
}

export async function spawnWithTestCa(args: string[], options: TestCaRun = {}): Promise<number> {
  const { execArgv = ['--import', 'tsx'] } = options
  const ca = await (options.ca ?? prepareTestCa())
  const child = spawn(process.execPath, [...execArgv, ...args], {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: ca.caFile,
      VOXGATE_TEST_TLS_DIR: ca.dir,
      // Every server of the run, in-process or `voxgate serve`, keeps the speech recognisers' calibration
      // in this one file (`--stt-calibration-file`): the first recogniser of the run calibrates, and each
      // later one, in any process, starts from it instead of spending seconds of CPU doing the same again.
      VOXGATE_STT_CALIBRATION_FILE: ca.calibrationFile,
    },
  })
  return new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

/**
 * Writes the run's calibration file before any test starts: the files that start first are speech
 * recognition's, and each of them, finding no file yet, would calibrate on its own at once (seconds of
 * CPU each, all at the busiest moment of the run). One recogniser started and released here writes it.
 * Without PocketSphinx there is nothing to calibrate; the STT tests say what is missing.
 */
async function calibrateOnce(calibrationFile: string): Promise<void> {
  const pool = new RecognizerPool({ maxStreams: 1, modelDir: MODEL_DIR, calibrationFile })
  if (pool.unavailable) return
  try {
    ;(await pool.acquire()).release()
  } finally {
    await pool.close()
  }
}
