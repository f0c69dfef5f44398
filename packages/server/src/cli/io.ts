/** The CLI's outside world, injectable so tests run commands in-process. */
export interface Io {
  out(line: string): void
  err(line: string): void
  env: NodeJS.ProcessEnv
  /** Whether `err` reaches a person at a terminal (secrets shown once go there, else to a 0600 file). */
  errIsTerminal?: boolean
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  errIsTerminal: process.stderr.isTTY === true,
}
