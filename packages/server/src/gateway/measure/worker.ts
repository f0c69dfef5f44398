/**
 * A one-upload decoding thread (decoder.ts starts one per upload and ends it after): the upload's
 * audio is decoded by the local STT decoder, bounded as local uploads are, and only its duration
 * comes back. The thread's exit frees every decoder and sample buffer it made.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { VoxgateError } from '@voxgate/protocol'
import { decodeAudioFile, type RawPcm } from '../../stt/audio-file.ts'
import { loadSpeex } from '../../tts/resample.ts'
import type { DecodeAnswer } from './decoder.ts'

interface DecodeJob {
  bytes: Uint8Array
  raw: RawPcm | undefined
  maxSeconds: number
}

const { bytes, raw, maxSeconds } = workerData as DecodeJob
let answer: DecodeAnswer
try {
  const audio = await decodeAudioFile({ bytes, raw, maxSeconds, speex: await loadSpeex() })
  answer = { seconds: audio.seconds }
} catch (err) {
  const coded =
    err instanceof VoxgateError && (err.code === 'unsupported_audio_format' || err.code === 'payload_too_large')
  answer = coded
    ? { code: err.code, message: err.message }
    : { code: 'unsupported_audio_format', message: 'The audio could not be decoded.' }
}
parentPort!.postMessage(answer)
