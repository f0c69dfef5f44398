import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** Decodes any audio ffmpeg reads to mono 16-bit PCM at `rate` (the tests' AAC decoder: the real ffmpeg). */
export function ffmpegToPcm(bytes: Uint8Array, rate: number): Int16Array {
  // biome-ignore format: ffmpeg's arguments read best in pairs
  const out = execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-i', 'pipe:0',
    '-f', 's16le', '-ac', '1', '-ar', String(rate), 'pipe:1',
  ], { input: bytes, maxBuffer: 64 * 1024 * 1024 })
  return new Int16Array(out.buffer, out.byteOffset, out.byteLength / 2)
}

/** AAC's frames are 1,024 samples, and an encoder primes one frame ahead: a decode is longer by at most this. */
export const AAC_SLACK_SAMPLES = 3 * 1024

/** This process's ffmpeg children now (from /proc; a stand-in named ffmpeg-… too): an encode the server runs in-process. */
export function ffmpegChildren(): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      // pid (comm) state ppid ...: comm may hold spaces, so read from its closing parenthesis.
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat) ?? []
      const ppid = Number(rest?.split(' ')[1])
      if (comm?.startsWith('ffmpeg') && ppid === process.pid) pids.push(Number(name))
    } catch {
      // The process ended while it was read.
    }
  }
  return pids
}
