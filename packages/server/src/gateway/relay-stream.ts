import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import type { StreamTransport } from '../streams/registry.ts'
import { endOnce, startStream, type StreamExchange } from '../streams/stream-start.ts'

/** What the response pipes (pipe-audio.ts, pipe-events.ts) need of a relayed stream. */
export interface RelayHandle {
  /** Aborted on revocation, when the client goes, or when the stream ends; `reason` is a VoxgateError. */
  signal: AbortSignal
  /** Adds relayed audio to the stream's ledger figures. */
  produced(ms: number): void
  /** The relay is done with it: the slot is freed and the figures settled once the response has closed; idempotent. */
  end(): void
}

/** One relayed TTS request's slot, characters and end, as openSpeechStream is for local speech. */
export interface RelayedStream extends RelayHandle {
  /** The upstream accepted the request: its characters are charged when the stream ends. */
  accepted(): void
  /**
   * The upstream failed and the local fallback serves the request instead, as a stream of its own:
   * this one frees its slot and gives its characters back at once, and counts as no stream.
   */
  handOver(): void
}

/**
 * Opens a relayed TTS stream: a concurrency slot, then the transcript's characters reserved (so a
 * refused request costs nothing and never reaches the upstream), then revocation and the client
 * leaving both abort `signal`. Once the upstream accepted, the whole transcript is charged: voxgate
 * cannot know what the upstream left unspoken (a stream cut short is charged in full, where local
 * speech refunds the sentences never started). Refused upstream, nothing is charged.
 */
export async function openRelayedStream(
  ctx: ServerContext,
  principal: Principal,
  text: string,
  exchange: StreamExchange,
  transport: StreamTransport,
): Promise<RelayedStream> {
  // Counted as a gateway counts: tag-shaped text voxgate does not know may be spoken upstream.
  const started = await startStream(ctx, principal, text, exchange.client, transport, 'known')
  const { lease, controller, reservation } = started
  let accepted = false
  let handedOver = false
  let audioMs = 0
  const end = endOnce(started, exchange, () => ({
    // Not accepted: `settle` refunds the whole reservation (no sentence of it started here).
    characters: accepted ? reservation.reserved : reservation.settle(),
    audioMsProduced: Math.round(audioMs),
    ...(handedOver && { streams: 0 }),
  }))
  return {
    signal: controller.signal,
    accepted: () => {
      accepted = true
      // The upstream answers once its first audio is ready: this is the relay's time to first audio.
      lease.firstAudio?.()
    },
    produced: (ms) => {
      audioMs += ms
    },
    handOver: () => {
      handedOver = true
      // Before the fallback reserves: a token near its budget must have these characters back first.
      reservation.settle()
      started.source.settle({ streams: 0 })
      lease.release()
      // Its signal goes quiet: the fallback's own stream watches revocation and the connection from here.
      started.controller.abort(new VoxgateError('context_cancelled', 'The request went to the local fallback.'))
      end()
    },
    end,
  }
}
