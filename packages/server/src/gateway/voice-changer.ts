import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import { DirectSource } from '../streams/block-source.ts'
import type { AudioReservation } from '../stt/usage.ts'
import { msPerByte } from './audio-length.ts'
import { answerMeter } from './measure/answer-meter.ts'
import { type ChangerFormat, changerFormat } from './measure/output-format.ts'
import { pipeAudio } from './pipe-audio.ts'
import { pipeEvents } from './pipe-events.ts'
import type { RelayHandle } from './relay-stream.ts'
import { type RelayedUpload, relayUpload, type Uploads } from './relay-upload.ts'
import { upstreamPath } from './upstream-path.ts'

/**
 * `POST /voice-changer/bytes` and `/voice-changer/sse` relayed (Cartesia's voice changer: an audio
 * file in, the same speech in another voice out). It takes a TTS rate-limit token and a stream slot;
 * its `output_format[...]` must be one voxgate can measure (output-format.ts), and the clip's
 * duration is reserved from `limits.audio_seconds` and the quotas before the upstream sees it
 * (relay-upload.ts): the answer is the clip's speech, about as long. The answer comes back as TTS's
 * does, measured from what the upstream sends (answer-meter.ts), and the reservation is settled to
 * that figure when it ends; an answer voxgate cannot measure keeps the whole reservation.
 */
export async function relayVoiceChanger(
  uploads: Uploads,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  transport: 'bytes' | 'sse',
): Promise<void> {
  const { ctx } = uploads
  await ctx.rateLimiter.take('tts', principal.keyId)
  const upload = await relayUpload(uploads, principal, request, reply, {
    path: upstreamPath('voice-changer', transport),
    transport,
    fileField: 'clip',
    inspect: (form) => ({ checked: changerFormat(form, transport) }),
  })
  const format = upload.checked
  if (transport === 'bytes') {
    const meter = answerMeter(upload.res.headers['content-type'], format)
    const handle = settled(ctx, principal, upload, () => meter.ms)
    // The meter reads each chunk as it passes; the stream's end settles from it, not from the pipe's figure.
    await pipeAudio(
      reply,
      upload.res,
      handle,
      (chunk) => {
        meter.push(chunk)
        return 0
      },
      { idleMs: uploads.upstream.idleMs, circuit: upload.circuit },
    )
  } else {
    // SSE chunks are raw PCM in the checked format: the pipe sizes their decoded bytes at its rate.
    let ms = 0
    const handle = settled(ctx, principal, upload, () => ms)
    const produced = (chunkMs: number) => {
      ms += chunkMs
    }
    const perByte = msPerByte(sized(format))
    await pipeEvents(
      request,
      reply,
      upload.res,
      { ...handle, produced },
      { perByte, idleMs: uploads.upstream.idleMs, circuit: upload.circuit },
    )
  }
}

/** The checked format in the shape audio-length.ts sizes. */
const sized = (format: ChangerFormat) => ({ ...format, sample_rate: format.sampleRate })

/** The relay's handle: its end releases the slot and settles the reservation to the audio `measured`. */
function settled(
  ctx: SttContext,
  principal: Principal,
  upload: RelayedUpload<ChangerFormat>,
  measured: () => number | undefined,
): RelayHandle {
  let ended = false
  return {
    signal: upload.signal,
    produced: () => undefined,
    end: () => {
      if (ended) return
      ended = true
      upload.end()
      settle(ctx, principal, upload.reserved, measured())
    },
  }
}

/**
 * The audio made goes to the token's audio budget and the quotas, and to the ledger's voice-changer
 * seconds: what was reserved and not made goes back; what was made beyond it is charged as far as
 * the budget still holds (past it, the next request is refused). Unmeasured, the reservation stands.
 */
function settle(ctx: SttContext, principal: Principal, reserved: AudioReservation, measured: number | undefined) {
  const ms = Math.round(measured ?? reserved.ms)
  if (ms < reserved.ms) ctx.stt.usage.refund(reserved.charge, reserved.ms - ms)
  else if (ms > reserved.ms) ctx.stt.usage.reserve(principal, ms - reserved.ms, true).catch(() => undefined)
  new DirectSource(ctx.budgets, principal).settle({ audioMsVoiceChanged: ms, streams: 1 })
}
