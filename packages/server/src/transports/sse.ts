import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { StreamEvent, TtsSseRequest } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { chunkEvent, doneEvent, errorEvent, phonemeTimestampsEvent, timestampsEvent } from './events.ts'
import { checkSpeechRequest, checkTranscriptLength } from './prepare.ts'
import { cutAfterGrace, hardClose } from '../sockets/hard-close.ts'
import { abortReason, clientGone, type LocalSpeechOptions, openSpeechStream, revoked } from './speech-stream.ts'
import { FALLBACK_HEADER } from './bytes.ts'
import { sseFrame } from './sse-frame.ts'
import { drainedWrite } from './drained-write.ts'
import { startEventStream } from './event-stream-head.ts'

/**
 * Writes one frame, waiting for the socket to drain (drained-write.ts). A fallback's every event says
 * so, as its WebSocket events do: a client can tell the voice changed.
 */
const write = (res: ServerResponse, event: StreamEvent, signal: AbortSignal, fallback = false): Promise<void> =>
  drainedWrite(res, sseFrame(event, fallback ? { fallback: 'local' } : {}), signal)

/**
 * `POST /tts/sse`: `chunk` (and `timestamps`, `phoneme_timestamps`) events, then exactly one `done` or `error`, then the
 * response ends (SDK4's iterator only stops when the body does). Checks that fail before the first
 * event are plain JSON errors.
 */
export async function serveSse(
  ctx: ServerContext,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  body: TtsSseRequest,
  options: LocalSpeechOptions = {},
): Promise<void> {
  const { fallback = false } = options
  const client = clientGone(reply.raw)
  checkTranscriptLength(body.transcript)
  const speech = checkSpeechRequest(ctx, principal, body, { voiceAllowed: fallback })
  if (!fallback) await ctx.rateLimiter.take('tts', principal.keyId)
  const stream = await openSpeechStream(
    ctx,
    principal,
    {
      ...speech,
      text: body.transcript,
      timestamps: body.add_timestamps === true,
      phonemeTimestamps: body.add_phoneme_timestamps === true,
    },
    { client, response: reply.raw },
    'sse',
    { fallback },
  )
  const res = startEventStream(reply, fallback ? { [FALLBACK_HEADER]: 'local' } : {})
  const socket = res.socket
  // A revoked stream must end within a second even for a reader far behind: the error event gets a
  // short grace, then whatever is still queued for the peer (in Node or the kernel) is cut. A
  // response already ended (its `done` queued, or in the kernel as its tail) has no event to come: it
  // is cut at once, or the grace would only let the rest flow into the reader's receive buffer.
  stream.signal.addEventListener(
    'abort',
    () => {
      if (!revoked(stream.signal)) return
      if (res.writableEnded) hardClose(socket)
      else cutAfterGrace(socket, () => socket?.destroyed ?? true)
    },
    { once: true },
  )
  const id = body.context_id
  try {
    let started = performance.now()
    for (let r = await stream.chunks.next(); !r.done; r = await stream.chunks.next()) {
      const step = performance.now() - started
      if (r.value.audio.byteLength > 0) await write(res, chunkEvent(r.value.audio, step, id), stream.signal, fallback)
      if (r.value.words && body.add_timestamps)
        await write(res, timestampsEvent(r.value.words, id), stream.signal, fallback)
      if (r.value.phonemes && body.add_phoneme_timestamps)
        await write(res, phonemeTimestampsEvent(r.value.phonemes, id), stream.signal, fallback)
      started = performance.now()
    }
    if (stream.signal.aborted) throw stream.signal.reason
    await write(res, doneEvent(id), stream.signal, fallback)
  } catch (err) {
    await write(res, errorEvent(abortReason(stream.signal, err), request.id, id), stream.signal, fallback)
  } finally {
    stream.end()
    // After a revocation the connection must not be reused: closing our side lets a reader who keeps
    // up see the end and drop it from its pool, so only a reader far behind meets the cut.
    if (revoked(stream.signal)) res.end(() => socket?.end())
    else res.end()
  }
}
