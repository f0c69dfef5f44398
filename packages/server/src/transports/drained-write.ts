import type { ServerResponse } from 'node:http'

/**
 * Writes to a streamed response and, when the socket is full, waits for it to drain, so a slow reader
 * pauses what feeds it (synthesis, or an upstream's read). An abort (revocation) or a closed socket
 * ends the wait, so a terminal event is queued at once.
 */
export async function drainedWrite(res: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  if (res.destroyed) return
  if (!res.write(text) && !signal.aborted) {
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done)
        res.off('close', done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      res.on('drain', done).on('close', done)
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
