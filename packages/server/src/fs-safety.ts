import { closeSync, fchmodSync, openSync, statSync, writeSync } from 'node:fs'

export type DataFileErrorCode = 'unsafe_file_mode' | 'unsafe_folder_mode' | 'empty_store'

/**
 * A data file voxgate refuses to start with. The message is one line naming the file and the
 * command that fixes it, as ssh does for a private key other users can read.
 */
export class DataFileError extends Error {
  constructor(
    readonly code: DataFileErrorCode,
    readonly file: string,
    message: string,
  ) {
    super(message)
    this.name = 'DataFileError'
  }
}

/** A path as a shell argument: bare when it is plain, else single-quoted. */
export const shellArg = (p: string): string => (/^[\w./+:@%-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`)

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0')

function modeOf(file: string): number | undefined {
  try {
    return statSync(file).mode
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Refuses a secret-bearing file that group or others may touch at all (any of 0o077). */
export function assertPrivateFile(file: string): void {
  const mode = modeOf(file)
  if (mode === undefined || (mode & 0o077) === 0) return
  throw new DataFileError(
    'unsafe_file_mode',
    file,
    `${file} holds secrets but other users can access it (mode ${octal(mode)}); run: chmod 600 ${shellArg(file)}`,
  )
}

/** Refuses a folder of secrets that others may write to (they could swap the files in it). */
export function assertPrivateFolder(dir: string): void {
  const mode = modeOf(dir)
  if (mode === undefined || (mode & 0o002) === 0) return
  throw new DataFileError(
    'unsafe_folder_mode',
    dir,
    `data folder ${dir} is writable by other users (mode ${octal(mode)}); run: chmod o-w ${shellArg(dir)}`,
  )
}

/**
 * Creates `file` empty with mode 0600 (less any umask bits) if it does not exist, so that whatever
 * opens it next never widens it; returns whether this call created it.
 */
export function createPrivateFile(file: string): boolean {
  try {
    closeSync(openSync(file, 'wx', 0o600))
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

/** Writes a secret, mode 0600 even when the file already existed with a wider mode. */
export function writePrivateFile(file: string, data: string): void {
  const fd = openSync(file, 'w', 0o600)
  try {
    fchmodSync(fd, 0o600)
    writeSync(fd, data)
  } finally {
    closeSync(fd)
  }
}
