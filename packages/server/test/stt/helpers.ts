import WebSocket from 'ws'
import { VOICE_ENTRIES, type SpeechService } from '../../src/tts/index.ts'

/**
 * The Flite voices, by engine voice (`slt`, `rms`, `awb`, `kal16`): PocketSphinx recognises them well,
 * eSpeak's formant audio it does not (PROTOCOL-STT.md Part 2).
 */
export const FLITE_VOICES: ReadonlyMap<string, string> = new Map(
  VOICE_ENTRIES.filter((v) => v.engine === 'flite').map((v) => [v.engineVoice, v.voice.id]),
)

/** Speaks `text` with voxgate's own TTS as mono 16-bit PCM at `sampleRate`. */
export async function speak(
  speech: SpeechService,
  voiceId: string,
  text: string,
  sampleRate = 16000,
): Promise<Int16Array> {
  const parts: Uint8Array[] = []
  for await (const c of speech.synthesize({
    text,
    voiceId,
    outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: sampleRate },
  }))
    parts.push(c.audio)
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

export const bytesOf = (pcm: Int16Array | Float32Array): Buffer =>
  Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)

/** A minimal 16-bit mono WAV file. */
export function wav(pcm: Int16Array, sampleRate = 16000): Buffer {
  const h = Buffer.alloc(44)
  h.write('RIFF', 0)
  h.writeUInt32LE(36 + pcm.byteLength, 4)
  h.write('WAVE', 8)
  h.write('fmt ', 12)
  h.writeUInt32LE(16, 16)
  h.writeUInt16LE(1, 20)
  h.writeUInt16LE(1, 22)
  h.writeUInt32LE(sampleRate, 24)
  h.writeUInt32LE(sampleRate * 2, 28)
  h.writeUInt16LE(2, 32)
  h.writeUInt16LE(16, 34)
  h.write('data', 36)
  h.writeUInt32LE(pcm.byteLength, 40)
  return Buffer.concat([h, bytesOf(pcm)])
}

/** Word error rate: word-level Levenshtein distance over the reference length, case and punctuation ignored. */
export function wer(reference: string, hypothesis: string): { errors: number; words: number } {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9' ]+/g, ' ')
      .split(/\s+/)
      .filter(Boolean)
  const r = norm(reference),
    h = norm(hypothesis)
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j)
  for (let i = 1; i <= r.length; i++) {
    const cur = [i]
    for (let j = 1; j <= h.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1))
    prev = cur
  }
  return { errors: prev[h.length]!, words: r.length }
}

export interface SttSocketRun {
  ws: WebSocket
  events: any[]
  opened: Promise<void>
  closed: Promise<{ code: number }>
  /** Resolves with the first event of `type` (or rejects when the socket closes first). */
  next(type: string): Promise<any>
}

/** Opens an STT WebSocket and records its JSON events. */
export function openStt(url: string, path: string, query: string, headers: Record<string, string> = {}): SttSocketRun {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}?${query}`, { headers })
  const events: any[] = []
  const waiters: { type: string; resolve: (e: any) => void; reject: (e: Error) => void }[] = []
  ws.on('message', (data, binary) => {
    if (binary) return
    const event = JSON.parse(String(data))
    events.push(event)
    for (const w of waiters.filter((w) => w.type === event.type)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(event)
    }
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const closed = new Promise<{ code: number }>((resolve) =>
    ws.once('close', (code) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`socket closed (${code}) before a ${w.type} event`))
      resolve({ code })
    }),
  )
  return {
    ws,
    events,
    opened,
    closed,
    next: (type) =>
      new Promise((resolve, reject) => {
        const seen = events.find((e) => e.type === type && !(e as { _taken?: boolean })._taken)
        if (seen) return resolve(Object.defineProperty(seen, '_taken', { value: true }))
        waiters.push({ type, resolve: (e) => resolve(Object.defineProperty(e, '_taken', { value: true })), reject })
      }),
  }
}

/** The HTTP answer to a refused WebSocket handshake. */
export function refusedHandshake(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Record<string, string | string[] | undefined> }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, { headers })
  return new Promise((resolve, reject) => {
    ws.on('open', () => reject(new Error('the handshake was accepted')))
    ws.on('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers }))
    })
    ws.on('error', () => {})
  })
}

/** Sends PCM in 100 ms frames, all at once (faster than real time). */
export function sendAudio(ws: WebSocket, bytes: Uint8Array, bytesPer100ms: number): void {
  for (let at = 0; at < bytes.length; at += bytesPer100ms) ws.send(bytes.subarray(at, at + bytesPer100ms))
}
