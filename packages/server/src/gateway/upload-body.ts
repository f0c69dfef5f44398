import type { IncomingMessage } from 'node:http'
import { VoxgateError } from '@voxgate/protocol'

const tooLarge = () => new VoxgateError('payload_too_large', 'The upload is larger than the server accepts.')

/** Refuses (413) an upload whose declared Content-Length is past `maxBytes`, before any byte is read. */
export function checkDeclaredLength(req: IncomingMessage, maxBytes: number): void {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge()
}

/**
 * A client's upload read whole, so that its audio is measured before the upstream sees a byte: cut
 * with 413 `payload_too_large` the moment it passes `maxBytes` (a chunked upload declares no
 * length), and with `context_cancelled` when the client leaves mid-upload.
 */
export function readUploadBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let seen = 0
    const fail = (err: unknown) => {
      // Read no further: the answer goes out with `connection: close` (relay-upload.ts).
      req.off('data', onData)
      req.pause()
      reject(err)
    }
    const onData = (chunk: Buffer) => {
      seen += chunk.length
      if (seen > maxBytes) return fail(tooLarge())
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', fail)
    req.once('aborted', () => fail(new VoxgateError('context_cancelled', 'The client went away.')))
  })
}
