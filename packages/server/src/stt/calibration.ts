import { createFliteEngine } from '../tts/engine-flite.ts'
import { type CmnState, DECODER_RATE, type Decoder } from './pocketsphinx.ts'

/**
 * Speech every recognition worker's decoder hears once, when it loads, before any session: Harvard
 * sentences (IEEE 1969, public domain), one in each of voxgate's Flite voices. The live cepstral mean
 * normalisation (CMN) it converges to is what every upload and socket then starts from. The model's own
 * initial means are generic, so a session starting from them mishears its first utterance (recognition.test.ts's
 * batch WER 0.169, against 0.119 on a decoder warmed by earlier uploads and 0.076 from this start); speech made
 * here, offline and the same on every run, gives every session the same start, adapted to speech.
 */
export const CALIBRATION = [
  { voice: 'slt', text: 'The birch canoe slid on the smooth planks.' },
  { voice: 'rms', text: 'Glue the sheet to the dark blue background.' },
  { voice: 'awb', text: 'It is easy to tell the depth of a well.' },
  { voice: 'kal16', text: 'These days a chicken leg is a rare dish.' },
] as const

/** Silence either side of each sentence, as an upload usually has. */
export const PAD_SECONDS = 0.3
const PAD = new Int16Array(PAD_SECONDS * DECODER_RATE)

/** The calibration sentences as 16 kHz mono utterances, synthesised by Flite (deterministic, no files). */
export async function calibrationSpeech(): Promise<Int16Array[]> {
  const flite = await createFliteEngine()
  return CALIBRATION.map(({ voice, text }) => {
    let speech: Int16Array = new Int16Array(0)
    const { sampleRate } = flite.synth(text, { voice, speed: 1 }, (samples) => {
      speech = samples
      return false
    })
    if (sampleRate !== DECODER_RATE) throw new Error(`calibration: flite voice ${voice} speaks at ${sampleRate} Hz`)
    const utterance = new Int16Array(PAD.length * 2 + speech.length)
    utterance.set(speech, PAD.length)
    return utterance
  })
}

/**
 * Runs `utterances` through a freshly started decoder and keeps the CMN they leave as its session start;
 * returns that CMN, which `startFrom` gives another decoder of the same model without the decoding.
 */
export function calibrate(decoder: Decoder, utterances: readonly Int16Array[]): CmnState {
  decoder.resetState()
  for (const utterance of utterances) {
    decoder.startUtterance()
    decoder.process(utterance)
    decoder.endUtterance()
  }
  const start = decoder.keepStartState()
  decoder.resetState()
  return start
}

/**
 * Gives a freshly loaded decoder the session start `calibrate` left in another of the same model. The
 * CMN is all that calibration changes (the front end computes it; the search keeps nothing across
 * streams), so the decoder is then as if it had heard the calibration speech itself. False, and the
 * decoder untouched, when `calibrated` does not fit it.
 */
export function startFrom(decoder: Decoder, calibrated: CmnState): boolean {
  try {
    decoder.keepStartState(calibrated)
  } catch {
    return false // one that does not fit this model (its vector length): the caller calibrates instead
  }
  decoder.resetState()
  return true
}
