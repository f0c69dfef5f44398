import { VoxgateError, type MarkupRule } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { DirectSource } from './block-source.ts'
import type { StreamFigures } from './usage-delta.ts'
import type { StreamLease, StreamTransport } from './registry.ts'
import { CharacterReservation } from './reservation.ts'

/** What an HTTP TTS stream holds once it may start, local or relayed. */
export interface StartedStream {
  lease: StreamLease
  /** Aborted by a revocation (its reason a VoxgateError); the stream's owner aborts it at the end too. */
  controller: AbortController
  source: DirectSource
  reservation: CharacterReservation
}

/** Why the client is gone: its own coded reason, or context_cancelled. */
export const goneReason = (client: AbortSignal): VoxgateError =>
  client.reason instanceof VoxgateError ? client.reason : new VoxgateError('context_cancelled', 'The client went away.')

/**
 * The start every HTTP TTS stream shares: a concurrency slot, then the text's characters reserved
 * (only once the slot is ours, so a refused request costs nothing; durable before any audio, so a
 * restart or another instance never hands them out again), the client's departure and a revocation
 * checked after each wait. On any failure nothing is held.
 */
export async function startStream(
  ctx: ServerContext,
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
    return { lease, controller, source, reservation }
  } catch (err) {
    lease.release()
    throw err
  }
}

/**
 * The one end of a started stream, whichever comes first: the returned `end()` (the transport is
 * done) or the client leaving. It frees the slot, aborts the stream's signal, and settles what
 * `finish` reports (called once, after the abort) with the stream's ledger row. Idempotent.
 */
export function endOnce(
  stream: StartedStream,
  client: AbortSignal,
  finish: () => Omit<StreamFigures, 'streams'>,
): () => void {
  let ended = false
  const end = () => {
    if (ended) return
    ended = true
    client.removeEventListener('abort', onClientGone)
    stream.lease.release()
    if (!stream.controller.signal.aborted)
      stream.controller.abort(new VoxgateError('context_cancelled', 'The stream ended.'))
    stream.source.settle({ ...finish(), streams: 1 })
  }
  const onClientGone = () => {
    stream.controller.abort(client.reason)
    end()
  }
  client.addEventListener('abort', onClientGone, { once: true })
  return end
}
