import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyReply } from 'fastify'
import { hardClose } from '../transports/hard-close.ts'
import { revoked } from '../transports/speech-stream.ts'
import type { RelayHandle } from './relay-stream.ts'

/**
 * Sends the upstream's audio answer to the client chunk by chunk, as it arrives: pipe backpressure,
 * so a client that does not read stops the upstream read and nothing is buffered beyond the
 * streams' high-water marks. A cut upstream cuts the client's chunked body (bytes have no error
 * event: an aborted body is how a client learns the audio is incomplete); a revocation cuts it at
 * once, queued audio included. `size` gives the milliseconds of audio in each chunk, for the ledger.
 */
export async function pipeAudio(
  reply: FastifyReply,
  res: IncomingMessage,
  stream: RelayHandle,
  size: (chunk: Buffer) => number,
): Promise<void> {
  const socket = reply.raw.socket
  stream.signal.addEventListener(
    'abort',
    () => {
      if (revoked(stream.signal)) hardClose(socket)
      if (!res.complete) res.destroy()
    },
    { once: true },
  )
  reply.hijack()
  reply.raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': res.headers['content-type'] ?? 'application/octet-stream',
    'cache-control': 'no-store',
  })
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      stream.produced(size(chunk))
      done(null, chunk)
    },
  })
  // pipeline destroys every stream on a failure: the upstream request and the client's response both go.
  await pipeline(res, counter, reply.raw)
    .catch(() => undefined)
    .finally(() => stream.end())
}
