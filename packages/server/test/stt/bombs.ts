/**
 * Small generators of hostile audio files for decoder-bombs.test.ts: headers declaring what the server
 * does not accept, and files that decode to far more audio than their size suggests. Each writes the
 * container's framing (and checksums) by hand; the codec payloads are the smallest valid ones
 * (zero-length Opus frames, silent MP3 frames, constant FLAC subframes).
 */

/** A little-endian or big-endian field writer. */
const u16le = (n: number) => [n & 0xff, (n >> 8) & 0xff]
const u32le = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff]

/** A WAV header (no data beyond `data`), any rate, channels and format. */
export function wavFile(options: { rate: number; channels: number; format?: number; bits?: number; data: Uint8Array }) {
  const { rate, channels, format = 1, bits = 16, data } = options
  const block = (channels * bits) / 8
  const header = Buffer.from([
    ...Buffer.from('RIFF'),
    ...u32le(36 + data.length),
    ...Buffer.from('WAVEfmt '),
    ...u32le(16),
    ...u16le(format),
    ...u16le(channels),
    ...u32le(rate),
    ...u32le(rate * block),
    ...u16le(block),
    ...u16le(bits),
    ...Buffer.from('data'),
    ...u32le(data.length),
  ])
  return Buffer.concat([header, data])
}

// --- Ogg Opus -----------------------------------------------------------------------------------

const OGG_CRC = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let r = i << 24
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1
    t[i] = r >>> 0
  }
  return t
})()

function oggPage(options: { packets: Uint8Array[]; granule: number; seq: number; flags: number }): Buffer {
  const lacing: number[] = []
  for (const p of options.packets) {
    for (let n = p.length; ; n -= 255) {
      lacing.push(Math.min(n, 255))
      if (n < 255) break
    }
  }
  const head = Buffer.alloc(27)
  head.write('OggS', 0)
  head[5] = options.flags
  head.writeBigUInt64LE(BigInt(options.granule), 6)
  head.writeUInt32LE(0x766f78, 14) // serial
  head.writeUInt32LE(options.seq, 18)
  head[26] = lacing.length
  const page = Buffer.concat([head, Buffer.from(lacing), ...options.packets])
  let crc = 0
  for (const b of page) crc = ((crc << 8) ^ OGG_CRC[((crc >>> 24) ^ b) & 0xff]!) >>> 0
  page.writeUInt32LE(crc, 22)
  return page
}

/** An OpusHead: family 0 for one or two channels, family 1 (or 255) with a mapping table otherwise. */
export function opusHead(channels: number): Buffer {
  const family = channels <= 2 ? 0 : channels <= 8 ? 1 : 255
  const head = [...Buffer.from('OpusHead'), 1, channels, ...u16le(312), ...u32le(48000), 0, 0, family]
  if (family !== 0) head.push(channels, 0, ...Array.from({ length: channels }, (_, i) => i))
  return Buffer.from(head)
}

/**
 * The 2-byte Opus packet: TOC config 3 (SILK narrowband, 60 ms frames), code 3, two frames of zero
 * bytes: 120 ms of (concealed) audio in 2 bytes, the most audio per byte Opus allows.
 */
const PACKET = Uint8Array.from([(3 << 3) | 3, 2])
const PACKET_SECONDS = 0.12

/** Ogg Opus of `seconds` of 2-byte packets (~26 bytes a second). */
export function oggOpusOf(options: { seconds: number; channels?: number }): Buffer {
  const pages = [
    oggPage({ packets: [opusHead(options.channels ?? 1)], granule: 0, seq: 0, flags: 0x02 }),
    oggPage({
      packets: [Buffer.from([...Buffer.from('OpusTags'), ...u32le(0), ...u32le(0)])],
      granule: 0,
      seq: 1,
      flags: 0,
    }),
  ]
  const total = Math.round(options.seconds / PACKET_SECONDS)
  for (let done = 0, seq = 2; done < total; seq++) {
    const n = Math.min(250, total - done)
    done += n
    pages.push(
      oggPage({
        packets: Array(n).fill(PACKET),
        granule: done * 5760, // 120 ms at 48 kHz
        seq,
        flags: done === total ? 0x04 : 0,
      }),
    )
  }
  return Buffer.concat(pages)
}

// --- WebM Opus ----------------------------------------------------------------------------------

/** An EBML element; `size` undefined is the unknown size (8 bytes of ones). */
function ebml(id: number, body: Uint8Array | undefined, unknown = false): Buffer {
  const idBytes: number[] = []
  for (let v = id; v > 0; v = Math.floor(v / 256)) idBytes.unshift(v & 0xff)
  const size = unknown
    ? [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    : [0x01, 0, 0, 0, ...u32le(body!.length).reverse()]
  return Buffer.concat([Buffer.from(idBytes), Buffer.from(size), body ?? Buffer.alloc(0)])
}

const EBML_HEADER = ebml(0x1a45dfa3, ebml(0x4282, Buffer.from('webm')))
const tracks = (head: Uint8Array) =>
  ebml(
    0x1654ae6b,
    ebml(0xae, Buffer.concat([ebml(0xd7, Buffer.from([1])), ebml(0x86, Buffer.from('A_OPUS')), ebml(0x63a2, head)])),
  )

/** WebM Opus of `seconds` of 2-byte packets in SimpleBlocks, in one unknown-size cluster. */
export function webmOpusOf(options: { seconds: number; channels?: number }): Buffer {
  const block = Buffer.from([0xa3, 0x86, 0x81, 0, 0, 0x80, ...PACKET])
  const blocks = Buffer.concat(Array(Math.round(options.seconds / PACKET_SECONDS)).fill(block))
  const cluster = Buffer.concat([ebml(0x1f43b675, undefined, true), ebml(0xe7, Buffer.from([0])), blocks])
  const segment = Buffer.concat([ebml(0x18538067, undefined, true), tracks(opusHead(options.channels ?? 1)), cluster])
  return Buffer.concat([EBML_HEADER, segment])
}

/** WebM whose segment holds BlockGroups nested `depth` deep (each of a known size). */
export function webmNested(depth: number): Buffer {
  // Built from the inside out, sizes known: 9 bytes a level.
  let inner: Buffer = tracks(opusHead(1))
  const levels: Buffer[] = []
  for (let i = 0; i < depth; i++) levels.push(Buffer.from([0xa0, 0x01, 0, 0, 0, 0, 0, 0, 0]))
  let size = inner.length
  for (let i = depth - 1; i >= 0; i--) {
    levels[i]!.writeUInt32BE(size, 5)
    size += 9
  }
  inner = Buffer.concat([...levels, inner])
  return Buffer.concat([EBML_HEADER, ebml(0x18538067, inner)])
}

// --- MP3 ----------------------------------------------------------------------------------------

/** A silent MPEG-2.5 Layer III frame: 8 kHz mono 8 kb/s, 576 samples (72 ms) in 72 bytes. */
const MP3_8K = Buffer.concat([Buffer.from([0xff, 0xe3, 0x18, 0xc0]), Buffer.alloc(68)])
/** A silent MPEG-1 Layer III frame: 48 kHz mono 32 kb/s, 1152 samples (24 ms) in 96 bytes. */
const MP3_48K = Buffer.concat([Buffer.from([0xff, 0xfb, 0x14, 0xc0]), Buffer.alloc(92)])

/**
 * `seconds8k` of 8 kHz frames and a 48 kHz frame after every `every` of them (and at the end): a
 * file whose rate changes, sized by the rate it ends on today (1,000 s at 8 kHz read as 166.7 s).
 */
export function mp3Of(options: { seconds8k: number; every?: number }): Buffer {
  const n = Math.round(options.seconds8k / 0.072)
  const every = options.every ?? n
  const frames: Buffer[] = []
  for (let i = 1; i <= n; i++) {
    frames.push(MP3_8K)
    if (i % every === 0 || i === n) frames.push(MP3_48K)
  }
  return Buffer.concat(frames)
}

// --- FLAC ---------------------------------------------------------------------------------------

function crc8(b: Uint8Array): number {
  let c = 0
  for (const x of b) {
    c ^= x
    for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff
  }
  return c
}

function crc16(b: Uint8Array): number {
  let c = 0
  for (const x of b) {
    c ^= x << 8
    for (let i = 0; i < 8; i++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff
  }
  return c
}

/** `fLaC` and a STREAMINFO declaring any rate (20 bits) and channels (1–8). */
function flacHeader(rate: number, channels: number): Buffer {
  const info = Buffer.alloc(34)
  info.writeUInt16BE(65535, 0)
  info.writeUInt16BE(65535, 2)
  info[10] = (rate >> 12) & 0xff
  info[11] = (rate >> 4) & 0xff
  info[12] = ((rate & 0x0f) << 4) | ((channels - 1) << 1) // 16-bit samples: (16 - 1) >> 4 = 0 here
  info[13] = (15 & 0x0f) << 4
  return Buffer.concat([Buffer.from('fLaC'), Buffer.from([0x80, 0, 0, 34]), info])
}

/**
 * One FLAC frame of 65,535 samples, mono 16-bit, a CONSTANT subframe (silence): 8.2 s at 8 kHz in
 * 13 bytes. `rateCode` 0b0100 is 8 kHz; 0b1110 takes the rate in tens of Hz from `rateTens`.
 */
function flacFrame(n: number, rateCode = 0b0100, rateTens = 0): Buffer {
  const number = n < 128 ? [n] : [0xc0 | (n >> 6), 0x80 | (n & 0x3f)]
  const header = [0xff, 0xf8, (0b0111 << 4) | rateCode, 0b0000_1000, ...number, 0xff, 0xfe]
  if (rateCode === 0b1110) header.push((rateTens >> 8) & 0xff, rateTens & 0xff)
  header.push(crc8(Uint8Array.from(header)))
  const body = Buffer.from([...header, 0x00, 0x00, 0x00])
  const crc = crc16(body)
  return Buffer.concat([body, Buffer.from([crc >> 8, crc & 0xff])])
}

/** FLAC declaring `rate` and `channels`, of `seconds` of 8 kHz silent frames (or frames at `frameRateTens` × 10 Hz). */
export function flacOf(options: { rate?: number; channels?: number; seconds: number; frameRateTens?: number }): Buffer {
  const frames = Math.ceil((options.seconds * 8000) / 65535)
  const code = options.frameRateTens ? 0b1110 : 0b0100
  return Buffer.concat([
    flacHeader(options.rate ?? 8000, options.channels ?? 1),
    ...Array.from({ length: frames }, (_, i) => flacFrame(i, code, options.frameRateTens ?? 0)),
  ])
}
