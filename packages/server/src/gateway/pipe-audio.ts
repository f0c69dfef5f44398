import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyReply } from 'fastify'
import { hardClose } from '../sockets/hard-close.ts'
import { revoked } from '../transports/speech-stream.ts'
import type { CacheFill } from '../tts/cache.ts'
import type { CircuitTicket } from './circuit-breaker.ts'
import type { RelayHandle } from './relay-stream.ts'
import { watchRelay } from './relay-verdict.ts'
import { idleError, UpstreamIdle } from './upstream-idle.ts'

/** The client's answer in place of the upstream's bytes as they are: its content type, and the audio reshaped. */
export interface RelayOutput {
  contentType: string
  reshape(audio: AsyncIterable<Buffer>): AsyncIterable<Buffer>
}

export interface PipeAudioOptions {
  /** Told how the relay ended: answered whole, cut by the upstream, or left by the client. */
  circuit: CircuitTicket
  /** The upstream's idle limit while it is read (`--upstream-idle-seconds`). */
  idleMs?: number
  /** Collects the answer for the TTS cache; kept only once the whole answer went through. */
  fill?: CacheFill
  /** The client's answer in place of the upstream's bytes as they are; the cache keeps it as the client got it. */
  output?: RelayOutput
}

/**
 * Sends the upstream's audio answer to the client chunk by chunk, as it arrives: pipe backpressure,
 * so a client that does not read stops the upstream read and nothing is buffered beyond the
 * streams' high-water marks. A cut upstream cuts the client's chunked body (bytes have no error
 * event: an aborted body is how a client learns the audio is incomplete); a revocation cuts it at
 * once, queued audio included; an upstream silent for `idleMs` while it is read (not while a slow
 * client holds the pipe) is cut too. `size` gives the milliseconds of audio in each chunk, for the ledger.
 * With `output`, the audio is reshaped on its way (counted as the upstream sent it).
 */
export async function pipeAudio(
  reply: FastifyReply,
  res: IncomingMessage,
  stream: RelayHandle,
  size: (chunk: Buffer) => number,
  options: PipeAudioOptions,
): Promise<void> {
  const { idleMs = Number.POSITIVE_INFINITY, fill, output, circuit } = options
  watchRelay(res, reply.raw, stream.signal, circuit)
  const socket = reply.raw.socket
  // A paused answer is one the client holds back (pipe backpressure): voxgate is not waiting on the upstream then.
  const idle = new UpstreamIdle(
    idleMs,
    () => res.destroy(idleError(idleMs)),
    () => res.isPaused(),
  )
  stream.signal.addEventListener(
    'abort',
    () => {
      if (revoked(stream.signal)) hardClose(socket)
      if (!res.complete) res.destroy()
    },
    { once: true },
  )
  const contentType = res.headers['content-type'] ?? 'application/octet-stream'
  reply.hijack()
  reply.raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': output?.contentType ?? contentType,
    'cache-control': 'no-store',
  })
  let audioMs = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const ms = size(chunk)
      stream.produced(ms)
      audioMs += ms
      // Reshaped (OpenAI's speech), the cache keeps the answer as the client gets it: collected below.
      // A body chunk is the parser's own copy, never written again: held, not copied.
      if (!output) fill?.addOwned(chunk, ms)
      idle.wait()
      done(null, chunk)
    },
    // The upstream has sent it all: nothing more is owed (an encode after it is voxgate's own time).
    flush(done) {
      idle.hold()
      done()
    },
  })
  // pipeline destroys every stream on a failure: the upstream request and the client's response both go.
  idle.wait()
  await (output
    ? pipeline(res, counter, (audio: AsyncIterable<Buffer>) => kept(output.reshape(audio), fill), reply.raw)
    : pipeline(res, counter, reply.raw)
  )
    // Sent whole (a cut answer rejects): only then may it be served again from the cache.
    .then(() => fill?.complete(output?.contentType ?? contentType, audioMs))
    .catch(() => undefined)
    .finally(() => {
      idle.hold()
      stream.end()
    })
}

/** The reshaped answer, collected for the cache as it goes to the client. */
async function* kept(shaped: AsyncIterable<Buffer>, fill: CacheFill | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of shaped) {
    fill?.add(chunk)
    yield chunk
  }
}
