/** Audio checks on bytes: headers, lengths and loudness, so tests judge audio as audio. */

export interface WavInfo {
  format: number
  channels: number
  sampleRate: number
  bitsPerSample: number
  dataOffset: number
}

export function parseWavHeader(buf: Uint8Array): WavInfo {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error('not a RIFF/WAVE file')
  let off = 12
  let fmt: Omit<WavInfo, 'dataOffset'> | undefined
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4)
    const size = b.readUInt32LE(off + 4)
    if (id === 'fmt ')
      fmt = {
        format: b.readUInt16LE(off + 8),
        channels: b.readUInt16LE(off + 10),
        sampleRate: b.readUInt32LE(off + 12),
        bitsPerSample: b.readUInt16LE(off + 22),
      }
    if (id === 'data') {
      if (!fmt) throw new Error('data before fmt')
      return { ...fmt, dataOffset: off + 8 }
    }
    off += 8 + size + (size % 2)
  }
  throw new Error('no data chunk')
}

/** Root mean square of s16le samples, 0..1. */
export function rmsS16(bytes: Uint8Array): number {
  const s = new Int16Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 2)),
  )
  let sum = 0
  for (const v of s) sum += (v / 32768) ** 2
  return Math.sqrt(sum / Math.max(1, s.length))
}

export function rmsF32(bytes: Uint8Array): number {
  const s = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 4)),
  )
  let sum = 0
  for (const v of s) sum += v * v
  return Math.sqrt(sum / Math.max(1, s.length))
}

export const concat = (parts: Uint8Array[]): Uint8Array =>
  Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)))

/** Index of the first MP3 frame sync (11 set bits), or -1. */
export function mp3SyncAt(b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 0xff && ((b[i + 1] ?? 0) & 0xe0) === 0xe0) return i
  return -1
}
