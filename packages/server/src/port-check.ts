import net from 'node:net'
import { StartError } from './start-errors.ts'

/**
 * Fails at once when `host:port` cannot be listened on, before the slow parts of a start (speech
 * workers) run: a second `voxgate serve` on a taken port then exits in well under a second. The real
 * listen later still fails cleanly if another process takes the port in between.
 */
export async function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return
  const probe = net.createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen({ host, port, exclusive: true }, resolve)
    })
  } catch (err) {
    throw listenError(err, host, port)
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()))
  }
}

/** A listen failure as one line naming the fix. */
export function listenError(err: unknown, host: string, port: number): StartError {
  const code = (err as NodeJS.ErrnoException).code
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
  if (code === 'EADDRINUSE')
    return new StartError(
      'port_in_use',
      `cannot listen on ${where}: the port is in use (another voxgate?); stop that process or pick another with --port`,
    )
  return new StartError('listen_failed', `cannot listen on ${where}: ${(err as Error).message}`)
}
