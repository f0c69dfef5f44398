/** The CLI's outside world, injectable so tests run commands in-process. */
export interface Io {
  out(line: string): void
  err(line: string): void
  env: NodeJS.ProcessEnv
}

export const processIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
}
