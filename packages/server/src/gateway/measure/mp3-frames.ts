/**
 * The duration of an MP3 stream as it passes, from its frame headers: each frame says its own
 * sample rate and length, so the duration is the sum of its frames' (a bit rate or a rate declared
 * elsewhere is never trusted). Bytes that are not a frame header are skipped one at a time until
 * one is found, as decoders resynchronise; a leading ID3v2 tag is skipped whole.
 */
export class Mp3Frames {
  #ms = 0
  /** Bytes still to skip: the rest of the current frame or tag. */
  #skip = 0
  /** The start of a header split across chunks (at most 9 bytes: an ID3 header). */
  #carry: Buffer = Buffer.alloc(0)
  #started = false

  get ms(): number {
    return this.#ms
  }

  push(chunk: Buffer): void {
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk
    let at = Math.min(this.#skip, data.length)
    this.#skip -= at
    if (!this.#started) {
      if (data.length - at < 10) return this.#keep(data, at)
      this.#started = true
      at += id3Length(data, at)
    }
    while (at + 4 <= data.length) {
      const frame = frameAt(data, at)
      if (!frame) {
        at++
        continue
      }
      this.#ms += frame.ms
      at += frame.bytes
    }
    if (at > data.length) this.#skip = at - data.length
    this.#keep(data, Math.min(at, data.length))
  }

  #keep(data: Buffer, from: number): void {
    this.#carry = Buffer.from(data.subarray(from))
  }
}

/** The length of an ID3v2 tag at `at` (its size is "syncsafe": 7 bits a byte), or 0. */
function id3Length(b: Buffer, at: number): number {
  if (b.toString('latin1', at, at + 3) !== 'ID3') return 0
  const size =
    ((b[at + 6]! & 0x7f) << 21) | ((b[at + 7]! & 0x7f) << 14) | ((b[at + 8]! & 0x7f) << 7) | (b[at + 9]! & 0x7f)
  const footer = b[at + 5]! & 0x10 ? 10 : 0
  return 10 + size + footer
}

/** kbit/s by [version group][layer][index]: MPEG-1, then MPEG-2 and 2.5; layers I, II, III. */
const BIT_RATES = [
  [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  [
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
]
/** Hz by version bits (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1) and index. */
const SAMPLE_RATES: Record<number, number[]> = {
  0: [11025, 12000, 8000],
  2: [22050, 24000, 16000],
  3: [44100, 48000, 32000],
}

/** The frame whose header starts at `at`: its length in bytes and its duration, or undefined. */
function frameAt(b: Buffer, at: number): { bytes: number; ms: number } | undefined {
  if (b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return undefined
  const version = (b[at + 1]! >> 3) & 3
  const layer = 4 - ((b[at + 1]! >> 1) & 3) // 1, 2 or 3; 4 is reserved
  const rateIndex = (b[at + 2]! >> 2) & 3
  const bitIndex = b[at + 2]! >> 4
  const rates = SAMPLE_RATES[version]
  // Reserved values, and "free format" (bit rate 0, length unknown), are not a header voxgate can size.
  if (!rates || layer === 4 || rateIndex === 3 || bitIndex === 0 || bitIndex === 15) return undefined
  const rate = rates[rateIndex]!
  const bitRate = BIT_RATES[version === 3 ? 0 : 1]![layer - 1]![bitIndex]! * 1000
  const padding = (b[at + 2]! >> 1) & 1
  const samples = layer === 1 ? 384 : layer === 3 && version !== 3 ? 576 : 1152
  const bytes =
    layer === 1
      ? (Math.floor((12 * bitRate) / rate) + padding) * 4
      : Math.floor((samples / 8) * (bitRate / rate)) + padding
  return { bytes, ms: (samples * 1000) / rate }
}
