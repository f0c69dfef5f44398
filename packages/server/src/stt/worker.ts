/**
 * A recognition worker thread: one warm PocketSphinx decoder (about 96 MB and 0.25 s to load, so it
 * is kept for the thread's life) serving one session at a time. Messages: messages.ts.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { VoxgateError } from '@voxgate/protocol'
import { loadSpeex } from '../tts/resample.ts'
import { calibrate, calibrationSpeech, startFrom } from './calibration.ts'
import { decodeAudioFile, type DecodedAudio } from './audio-file.ts'
import type { FromWorker, ToWorker, WorkerInit } from './messages.ts'
import { PcmFramer } from './pcm.ts'
import { type CmnState, DECODER_RATE, loadDecoder, type Decoder } from './pocketsphinx.ts'
import { RecognitionSession } from './session.ts'

const port = parentPort!
const post = (msg: FromWorker): void => port.postMessage(msg)

let decoder: Decoder
let speex: Awaited<ReturnType<typeof loadSpeex>>
let calibration: CmnState
try {
  const init = workerData as WorkerInit
  decoder = loadDecoder(init.modelDir)
  speex = await loadSpeex()
  // Every session starts from the CMN the calibration speech leaves: the same start for all, adapted to
  // speech. Heard once a process (seconds of CPU); later workers start from the first one's.
  calibration =
    init.calibration && startFrom(decoder, init.calibration)
      ? init.calibration
      : calibrate(decoder, await calibrationSpeech())
} catch (err) {
  post({ type: 'boot_failed', message: err instanceof Error ? err.message : String(err) })
  process.exit(1)
}

interface Current {
  id: number
  session?: RecognitionSession
  framer?: PcmFramer
  file?: DecodedAudio
}
let current: Current = { id: 0 }
const EMPTY = new Int16Array(0)

function startSession(id: number, sampleRate: number): RecognitionSession {
  return new RecognitionSession(decoder, speex, sampleRate, {
    speechStart: () => post({ type: 'speech_start', session: id }),
    partial: (text) => post({ type: 'partial', session: id, text }),
    final: (words, reason, seconds) => post({ type: 'final', session: id, words, reason, seconds }),
  })
}

/** Recognises a held file (16 kHz) in 1 s pieces, as a stream would arrive; each piece is let go once heard. */
function recognizeFile(id: number, file: DecodedAudio): void {
  const session = startSession(id, DECODER_RATE)
  const { chunks } = file
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!
    chunks[i] = EMPTY
    for (let at = 0; at < chunk.length; at += DECODER_RATE) session.push(chunk.subarray(at, at + DECODER_RATE))
  }
  session.finalize('end')
  post({ type: 'ended', session: id, seconds: session.seconds })
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === 'open' || msg.type === 'file') {
    current.session?.finalize('end') // a session abandoned mid-utterance: leave the decoder between utterances
    current = { id: msg.session }
  }
  if (msg.session !== current.id) return
  switch (msg.type) {
    case 'open':
      current.session = startSession(msg.session, msg.sampleRate)
      current.framer = new PcmFramer(msg.encoding)
      return
    case 'audio':
      if (!current.session || !current.framer) return
      current.session.push(current.framer.push(msg.bytes))
      return post({ type: 'progress', session: msg.session, bytes: msg.bytes.length, seconds: current.session.seconds })
    case 'finalize':
      current.session?.finalize('finalize')
      return post({ type: 'flushed', session: msg.session })
    case 'end': {
      const seconds = current.session?.seconds ?? 0
      current.session?.finalize('end')
      current = { id: msg.session }
      return post({ type: 'ended', session: msg.session, seconds })
    }
    case 'file':
      current.file = await decodeAudioFile({ bytes: msg.bytes, raw: msg.raw, maxSeconds: msg.maxSeconds, speex })
      return post({ type: 'decoded', session: msg.session, seconds: current.file.seconds })
    case 'recognize': {
      const file = current.file
      current = { id: msg.session }
      if (file) recognizeFile(msg.session, file)
      return
    }
  }
}

/** Messages are handled strictly in order, even while a file decodes. */
let queue = Promise.resolve()
port.on('message', (msg: ToWorker) => {
  queue = queue
    .then(() => handle(msg))
    .catch((err: unknown) => {
      const coded =
        err instanceof VoxgateError && (err.code === 'unsupported_audio_format' || err.code === 'payload_too_large')
      post({
        type: 'failed',
        session: msg.session,
        code: coded ? err.code : 'internal_error',
        message: coded ? err.message : 'Speech recognition failed.',
      })
    })
})
post({ type: 'ready', calibration })
