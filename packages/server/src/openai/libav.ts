import LibAV, { type LibAV as LibAVInstance } from '@libav.js/variant-default'

/** What each open writer device has been written since it was last drained, by device name. */
const written = new Map<string, Buffer[]>()

let instance: Promise<LibAVInstance> | undefined

/**
 * The process's one libav.js instance (FFmpeg compiled to wasm), loaded on first use so only Opus and
 * FLAC requests pay for it, in this thread. Every encode has its own codec and muxer contexts and its
 * own writer device, so encodes interleave freely between their awaits.
 */
export function libav(): Promise<LibAVInstance> {
  instance ??= LibAV.LibAV({ noworker: true }).then(async (av) => {
    // One callback for every writer device: each write goes to its own device's list.
    av.onwrite = (name, _position, data) => written.get(name)?.push(Buffer.copyBytesFrom(data))
    // FLAC's muxer warns, on every stream, that it cannot go back to rewrite its header: expected here.
    await av.av_log_set_level(av.AV_LOG_ERROR)
    return av
  })
  return instance
}

let serial = 0

/**
 * A stream writer device (not seekable, so a muxer never goes back over bytes already sent): what a
 * muxer writes to it is gathered until `drain()` hands it over.
 */
export async function openWriter(av: LibAVInstance, extension: string) {
  const name = `out-${++serial}.${extension}`
  const parts: Buffer[] = []
  written.set(name, parts)
  await av.mkstreamwriterdev(name)
  return {
    name,
    drain: (): Buffer | undefined => (parts.length > 0 ? Buffer.concat(parts.splice(0)) : undefined),
    close: async () => {
      written.delete(name)
      await av.unlink(name).catch(() => undefined)
    },
  }
}
