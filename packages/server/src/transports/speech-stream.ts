import type { ServerResponse } from 'node:http'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { endOnce, startStream, type StreamExchange } from '../streams/stream-start.ts'
import type { SynthesisChunk, SynthesisRequest } from '../tts/types.ts'

export interface SpeechStream {
  chunks: AsyncIterator<SynthesisChunk>
  /** Aborted on revocation, when the client goes, or when the stream ends; `reason` is a VoxgateError. */
  signal: AbortSignal
  abort(reason?: VoxgateError): void
  /**
   * The transport is done with it: synthesis stops, and once the response has closed the slot is
   * freed and text never spoken refunded (until then a revocation still cuts it); idempotent.
   */
  end(): void
}

/**
 * A signal that aborts when the HTTP client goes away before its response is complete. Taken before
 * the first `await` of a request, so a client that leaves at any moment (while the rate limiter or the
 * first audio is awaited included) is seen: a `close` event missed is a stream leaked.
 */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController()
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new VoxgateError('context_cancelled', 'The client went away.'))
  }
  if (res.destroyed) onClose()
  else res.once('close', onClose)
  return controller.signal
}

/** How a local stream was asked for, beyond its request. */
export interface LocalSpeechOptions {
  /**
   * Gateway mode's fallback (gateway/fallback.ts): the upstream failed, so the offline engines
   * speak. The request was checked and rate-counted as a relay already; its characters are counted
   * in the ledger's `characters_fallback` too.
   */
  fallback?: boolean
}

/**
 * Opens one TTS stream for a principal and owns its whole life: takes a concurrency slot, reserves
 * the text's characters (only once the slot is ours, so a refused request costs nothing), starts
 * synthesis, and ends all of it exactly once, when the response has closed or the client went away
 * (a revocation aborts the signal, and the transport then cuts the response).
 */
export async function openSpeechStream(
  ctx: ServerContext,
  principal: Principal,
  request: SynthesisRequest,
  exchange: StreamExchange,
  transport: 'bytes' | 'sse',
  options: LocalSpeechOptions = {},
): Promise<SpeechStream> {
  const started = await startStream(ctx, principal, request.text, exchange.client, transport)
  const { lease, controller, reservation } = started
  let producedSeconds = 0
  const heard = lease.firstAudio
  const chunks = countAudio(
    ctx.speech.synthesize({ ...request, progress: reservation }, controller.signal)[Symbol.asyncIterator](),
    (chunk) => {
      producedSeconds += chunk.durationSeconds
      // The metrics' time to first audio (a no-op after the first; absent when metrics are off).
      if (heard && chunk.audio.byteLength > 0) heard()
    },
  )
  const end = endOnce(started, exchange, () => {
    // Cancels queued and running sentence jobs at once, even if the generator never started.
    void chunks.return?.(undefined)?.catch(() => undefined)
    const characters = reservation.settle()
    return {
      characters,
      audioMsProduced: producedSeconds * 1000,
      ...(options.fallback && { charactersFallback: characters }),
    }
  })
  return {
    chunks,
    signal: controller.signal,
    abort: (reason) => controller.abort(reason ?? new VoxgateError('context_cancelled', 'The stream was cancelled.')),
    end,
  }
}

/** True when the stream was aborted because its credential stopped being valid. */
export function revoked(signal: AbortSignal): boolean {
  const r = signal.reason
  return signal.aborted && r instanceof VoxgateError && (r.code === 'token_revoked' || r.code === 'token_expired')
}

/** The coded reason a stream was aborted with, or an internal error for anything else. */
export function abortReason(signal: AbortSignal, err: unknown): VoxgateError {
  if (signal.aborted && signal.reason instanceof VoxgateError) return signal.reason
  if (err instanceof VoxgateError) return err
  return new VoxgateError('internal_error', 'Speech synthesis failed.')
}

/**
 * Shows each chunk a stream yields to `seen` (the usage ledger's seconds of audio, the metrics' first
 * audio), in memory: one wrapper for both, so a stream pays one extra `await` a chunk, not two.
 */
function countAudio(
  chunks: AsyncIterator<SynthesisChunk>,
  seen: (chunk: SynthesisChunk) => void,
): AsyncIterator<SynthesisChunk> {
  return {
    async next() {
      const r = await chunks.next()
      if (!r.done) seen(r.value)
      return r
    },
    return: (value) => chunks.return?.(value) ?? Promise.resolve({ done: true, value }),
  }
}
