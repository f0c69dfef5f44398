import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { type MarkupRule, VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { CharacterBudgets } from './budgets.ts'
import { DirectSource } from './block-source.ts'
import type { StreamFigures } from '../usage/usage-delta.ts'
import type { StreamLease, StreamRegistry, StreamTransport } from './registry.ts'
import { CharacterReservation } from './reservation.ts'

/** What an HTTP TTS stream holds once it may start, local or relayed. */
export interface StartedStream {
  lease: StreamLease
  /** Aborted by a revocation (its reason a VoxgateError); the stream's owner aborts it at the end too. */
  controller: AbortController
  source: DirectSource
  reservation: CharacterReservation
  /** Watches the connection the finished response went out on (registry tails); the signal stays live till then. */
  tail(socket: Socket): void
}

/** What a stream's start uses of the server (a ServerContext has both). */
export interface StreamStartParts {
  streams: StreamRegistry
  budgets: CharacterBudgets
}

/** Why the client is gone: its own coded reason, or context_cancelled. */
const streamEnded = (): VoxgateError => new VoxgateError('context_cancelled', 'The stream ended.')

export const goneReason = (client: AbortSignal): VoxgateError =>
  client.reason instanceof VoxgateError ? client.reason : new VoxgateError('context_cancelled', 'The client went away.')

/**
 * The start every HTTP TTS stream shares: a concurrency slot, then the text's characters reserved
 * (only once the slot is ours, so a refused request costs nothing; durable before any audio, so a
 * restart or another instance never hands them out again), the client's departure and a revocation
 * checked after each wait. On any failure nothing is held.
 */
export async function startStream(
  ctx: StreamStartParts,
  principal: Principal,
  text: string,
  client: AbortSignal,
  transport: StreamTransport,
  markup: MarkupRule = 'any',
): Promise<StartedStream> {
  if (client.aborted) throw goneReason(client)
  const controller = new AbortController()
  const lease = await ctx.streams.open(principal, (err) => controller.abort(err), transport)
  const source = new DirectSource(ctx.budgets, principal)
  try {
    // The slot may have come from Redis: the client can have gone meanwhile.
    if (client.aborted) throw goneReason(client)
    const reservation = await CharacterReservation.open(source, text, markup)
    // The client may have left, or the token been revoked, during that write.
    if (client.aborted || controller.signal.aborted) {
      reservation.settle()
      source.settle({})
      throw client.aborted ? goneReason(client) : controller.signal.reason
    }
    const tail = (socket: Socket) =>
      ctx.streams.tails.hold(socket, principal, {
        revoked: (err) => controller.abort(err),
        ended: () => controller.abort(streamEnded()),
      })
    return { lease, controller, source, reservation, tail }
  } catch (err) {
    lease.release()
    throw err
  }
}

/** The HTTP exchange a stream answers: its response, and the signal of its client leaving (`clientGone`). */
export interface StreamExchange {
  response: ServerResponse
  client: AbortSignal
}

/**
 * The one end of a started stream: when its response has closed (handed to the connection to its
 * last byte, or cut), or the client left. Until then the stream is open, even once its audio is all
 * made and only waits for a slow reader: it keeps its slot and counts in the open-streams figures.
 * Then it frees the slot and settles what `finish` reports with the stream's ledger row, once. A
 * response that went out whole is followed on its connection (`tail`) until the connection moves
 * on: the stream's signal stays live, so a revocation still aborts it and the transport cuts the
 * connection, dropping what the kernel still queues for the reader.
 *
 * `finish` may report `streams: 0`: the stream gave way to another that is counted instead.
 *
 * The returned `done()` is the transport's word that nothing more will be produced: `finish` runs
 * then (it stops production), and the rest waits for the response to close. Idempotent.
 */
export function endOnce(stream: StartedStream, exchange: StreamExchange, finish: () => StreamFigures): () => void {
  const { client, response } = exchange
  // Node detaches the socket from the response once it has finished: keep it for the tail.
  const socket = response.socket
  let figures: StreamFigures | undefined
  let closed = false
  const done = () => {
    figures ??= finish()
  }
  const close = () => {
    if (closed) return
    closed = true
    client.removeEventListener('abort', onClientGone)
    done()
    stream.lease.release()
    // One stream, unless `finish` says it was none (a relay handed over to the local fallback).
    stream.source.settle({ streams: 1, ...figures })
    const signal = stream.controller.signal
    if (!signal.aborted && response.writableFinished && socket && !socket.destroyed) stream.tail(socket)
    else if (!signal.aborted) stream.controller.abort(streamEnded())
  }
  const onClientGone = () => {
    stream.controller.abort(client.reason)
    close()
  }
  // The client may have gone between the start's last check and now: then no event is to come.
  if (client.aborted) queueMicrotask(onClientGone)
  else client.addEventListener('abort', onClientGone, { once: true })
  response.once('close', close)
  return done
}
