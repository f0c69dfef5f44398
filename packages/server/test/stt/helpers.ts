import { VOICE_ENTRIES, type SpeechService } from '../../src/tts/index.ts'

/**
 * The Flite voices, by engine voice (`slt`, `rms`, `awb`, `kal16`): PocketSphinx recognises them well,
 * eSpeak's formant audio it does not (PROTOCOL-STT.md Part 2).
 */
export const FLITE_VOICES: ReadonlyMap<string, string> = new Map(VOICE_ENTRIES.filter((v) => v.engine === 'flite').map((v) => [v.engineVoice, v.voice.id]))

/** Speaks `text` with voxgate's own TTS as mono 16-bit PCM at `sampleRate`. */
export async function speak(speech: SpeechService, voiceId: string, text: string, sampleRate = 16000): Promise<Int16Array> {
  const parts: Uint8Array[] = []
  for await (const c of speech.synthesize({ text, voiceId, outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: sampleRate } })) parts.push(c.audio)
  const bytes = Buffer.concat(parts)
  return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)
}

export function silence(seconds: number, sampleRate = 16000): Int16Array {
  return new Int16Array(Math.round(seconds * sampleRate))
}

export function concatPcm(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) out.set(p, (at += p.length) - p.length)
  return out
}

export const bytesOf = (pcm: Int16Array | Float32Array): Buffer => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)

/** A minimal 16-bit mono WAV file. */
export function wav(pcm: Int16Array, sampleRate = 16000): Buffer {
  const h = Buffer.alloc(44)
  h.write('RIFF', 0); h.writeUInt32LE(36 + pcm.byteLength, 4); h.write('WAVE', 8); h.write('fmt ', 12)
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(sampleRate, 24)
  h.writeUInt32LE(sampleRate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(pcm.byteLength, 40)
  return Buffer.concat([h, bytesOf(pcm)])
}

/** Word error rate: word-level Levenshtein distance over the reference length, case and punctuation ignored. */
export function wer(reference: string, hypothesis: string): { errors: number; words: number } {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9' ]+/g, ' ').split(/\s+/).filter(Boolean)
  const r = norm(reference), h = norm(hypothesis)
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j)
  for (let i = 1; i <= r.length; i++) {
    const cur = [i]
    for (let j = 1; j <= h.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1))
    prev = cur
  }
  return { errors: prev[h.length]!, words: r.length }
}
