import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import type { SynthesisChunk, SynthesisRequest } from '../tts/types.ts'
import { VoxgateError } from '@voxgate/protocol'

export interface SpeechStream {
  chunks: AsyncIterator<SynthesisChunk>
  /** Aborted on revocation or when the caller ends the stream; `reason` is a VoxgateError on revocation. */
  signal: AbortSignal
  abort(reason?: VoxgateError): void
  /** Releases the stream's slot and cancels synthesis; idempotent. */
  end(): void
}

/**
 * Opens one TTS stream for a principal: takes a concurrency slot, charges the characters budget
 * (only once the slot is ours, so a refused request costs nothing), and starts synthesis. A
 * revocation aborts the stream; the transport decides how to tell its client.
 */
export function openSpeechStream(ctx: ServerContext, principal: Principal, request: SynthesisRequest): SpeechStream {
  const controller = new AbortController()
  const lease = ctx.streams.open(principal, (err) => controller.abort(err))
  try {
    ctx.streams.charge(principal, request.text.length)
  } catch (err) {
    lease.release()
    throw err
  }
  const chunks = ctx.speech.synthesize(request, controller.signal)[Symbol.asyncIterator]()
  return {
    chunks,
    signal: controller.signal,
    abort: (reason) => controller.abort(reason ?? new VoxgateError('context_cancelled', 'The stream was cancelled.')),
    end: () => {
      lease.release()
      if (!controller.signal.aborted) controller.abort(new VoxgateError('context_cancelled', 'The stream ended.'))
      void chunks.return?.()
    },
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
