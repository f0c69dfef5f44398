import type { IncomingMessage } from 'node:http'
import { Transform, type Readable } from 'node:stream'
import { VoxgateError } from '@voxgate/protocol'

const tooLarge = () => new VoxgateError('payload_too_large', 'The upload is larger than the server accepts.')

/** Refuses (413) an upload whose declared Content-Length is past `maxBytes`, before any byte is read. */
export function checkDeclaredLength(req: IncomingMessage, maxBytes: number): void {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge()
}

/**
 * A client's upload as it arrives, for piping to the upstream: never buffered whole, and cut with
 * 413 `payload_too_large` past `maxBytes` (a chunked upload declares no length). `watch` sees each
 * chunk as it passes.
 */
export function cappedUpload(req: IncomingMessage, maxBytes: number, watch?: (chunk: Buffer) => void): Readable {
  let seen = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length
      watch?.(chunk)
      done(seen > maxBytes ? tooLarge() : null, chunk)
    },
  })
  req.once('error', (err) => counter.destroy(err))
  // A client that leaves mid-upload leaves a body that never ends: the upstream request goes too.
  req.once('aborted', () => counter.destroy(new VoxgateError('context_cancelled', 'The client went away.')))
  return req.pipe(counter)
}

/** The upload's Content-Length, forwarded when the client declared one (the body is relayed unchanged). */
export function declaredLength(req: IncomingMessage): Record<string, string> {
  const value = req.headers['content-length']
  return typeof value === 'string' && /^\d+$/.test(value) ? { 'content-length': value } : {}
}
