/** Audio the upload relay tests send and the fake upstream answers with, built byte by byte. */

/** A μ-law WAV (8 kHz mono: 8,000 bytes a second), small enough for the tests' 64 kB upload limit. */
export function mulawWav(seconds: number): Buffer {
  const data = Math.round(seconds * 8000)
  const h = Buffer.alloc(44)
  h.write('RIFF', 0, 'latin1')
  h.writeUInt32LE(36 + data, 4)
  h.write('WAVEfmt ', 8, 'latin1')
  h.writeUInt32LE(16, 16)
  h.writeUInt16LE(7, 20) // WAVE_FORMAT_MULAW
  h.writeUInt16LE(1, 22)
  h.writeUInt32LE(8000, 24)
  h.writeUInt32LE(8000, 28)
  h.writeUInt16LE(1, 32)
  h.writeUInt16LE(8, 34)
  h.write('data', 36, 'latin1')
  h.writeUInt32LE(data, 40)
  return Buffer.concat([h, Buffer.alloc(data, 0xff)])
}

/** A 16-bit mono WAV header at `rate` whose data size says "streaming" (Cartesia's streamed WAV). */
export function streamedWav(rate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44)
  h.write('RIFF', 0, 'latin1')
  h.writeUInt32LE(0xffffffff, 4)
  h.write('WAVEfmt ', 8, 'latin1')
  h.writeUInt32LE(16, 16)
  h.writeUInt16LE(1, 20)
  h.writeUInt16LE(1, 22)
  h.writeUInt32LE(rate, 24)
  h.writeUInt32LE(rate * 2, 28)
  h.writeUInt16LE(2, 32)
  h.writeUInt16LE(16, 34)
  h.write('data', 36, 'latin1')
  h.writeUInt32LE(0xffffffff, 40)
  return Buffer.concat([h, Buffer.alloc(dataBytes)])
}

/** `count` MPEG-1 layer III frames (128 kbit/s, 44.1 kHz: 417 bytes and 1,152 samples each), silent. */
export function mp3Frames(count: number): Buffer {
  const frame = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x00]), Buffer.alloc(413)])
  return Buffer.concat(Array(count).fill(frame))
}
export const MP3_FRAME_MS = (1152 * 1000) / 44100
