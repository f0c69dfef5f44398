/** The wasm decoders' shape the tests use (mpg123-decoder, ogg-opus-decoder, @wasm-audio-decoders/flac). */
export interface AudioDecoder {
  ready: Promise<void>
  decode(b: Uint8Array): unknown
  free(): void
  flush?: () => unknown
}

/** Decodes `bytes` whole with a fresh decoder (freed after): samples, rate and the first channel. */
export async function decodedSamples(decoder: AudioDecoder, bytes: Uint8Array) {
  await decoder.ready
  try {
    const parts = [await decoder.decode(bytes)] as {
      samplesDecoded: number
      sampleRate: number
      channelData: Float32Array[]
    }[]
    if (decoder.flush) parts.push((await decoder.flush()) as (typeof parts)[number])
    const samples = parts.reduce((n, p) => n + p.samplesDecoded, 0)
    return {
      samples,
      sampleRate: parts[0]?.sampleRate ?? 0,
      channelData: parts.flatMap((p) => Array.from(p.channelData[0] ?? [])),
    }
  } finally {
    decoder.free()
  }
}
