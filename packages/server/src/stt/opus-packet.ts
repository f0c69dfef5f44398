/** Milliseconds of one frame, by the TOC byte's configuration number (RFC 6716 §3.1). */
function frameMs(config: number): number {
  if (config < 12) return [10, 20, 40, 60][config % 4]!
  if (config < 16) return [10, 20][config % 2]!
  return [2.5, 5, 10, 20][config % 4]!
}

/**
 * The duration an Opus packet declares, from its TOC byte (and frame count byte for code 3), without
 * decoding it: how WebM audio is measured before it is decoded. An empty packet is 0.
 */
export function opusPacketSeconds(packet: Uint8Array): number {
  const toc = packet[0]
  if (toc === undefined) return 0
  const code = toc & 0x03
  const frames = code === 0 ? 1 : code < 3 ? 2 : (packet[1] ?? 0) & 0x3f
  return (frames * frameMs(toc >> 3)) / 1000
}
