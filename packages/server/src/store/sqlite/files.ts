import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { assertPrivateFile, assertPrivateFolder, createPrivateFile, DataFileError, shellArg } from '../../fs-safety.ts'

/** SQLite's side files; on unix it creates them with the database file's own mode. */
const SIDE_FILES = ['-wal', '-shm', '-journal']

/**
 * The store holds the signing keys: its folder must not be writable by others, and its files must
 * be 0600 whatever the folder's mode or the umask. A new file is created 0600 before SQLite opens it
 * (so its side files follow); an existing one that is empty is refused, since opening it would
 * silently start a fresh key set and a new first API key.
 */
export function preparePrivateStore(file: string): void {
  const dir = path.dirname(file)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  assertPrivateFolder(dir)
  for (const f of [file, ...SIDE_FILES.map((s) => file + s)]) assertPrivateFile(f)
  if (createPrivateFile(file) || statSync(file).size > 0) return
  throw new DataFileError(
    'empty_store',
    file,
    `${file} is empty, and opening it would start a new key set; restore it from a backup or, to start afresh, run: rm ${shellArg(file)}`,
  )
}
