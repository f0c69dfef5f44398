import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import path from 'node:path'
import type { Writable } from 'node:stream'
import { VoxgateError } from '@voxgate/protocol'
import type { FfmpegAac } from '../context.ts'

/**
 * The ffmpeg voxgate runs for AAC (OpenAI's `aac`): `configured` (`--ffmpeg`) if it is an executable
 * file, else the first `ffmpeg` on PATH; undefined when there is none. Looked for once, at start:
 * a request never searches the file system.
 */
export function findFfmpeg(configured: string | undefined, searchPath = process.env.PATH ?? ''): string | undefined {
  const candidates = configured
    ? [configured]
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, 'ffmpeg'))
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** AAC-LC's bit rate for mono speech at 24 kHz. */
const AAC_BIT_RATE = '64k'

/** ffmpeg and its bounds (`--aac-max-seconds`, `--aac-max-output-bytes`), and the PCM's rate. */
export interface AacEncode extends FfmpegAac {
  sampleRate: number
}

/**
 * Mono 16-bit PCM in, AAC in ADTS frames out, as it is made: ffmpeg reads the PCM on its stdin and
 * writes ADTS (each frame self-contained, so the stream plays as it arrives) on its stdout. The run
 * is bounded (`maxRunMs`, `maxOutputBytes`) and the process killed whenever the encode ends
 * early: the client gone (the generator returned), the input failed (revocation), a bound passed.
 */
export async function* encodeAac(pcm: AsyncIterable<Buffer>, options: AacEncode): AsyncGenerator<Buffer> {
  // biome-ignore format: one option per line reads as ffmpeg's own documentation does
  const child = spawn(options.path, [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    // Raw PCM needs no probing; the default would hold the first 2 s of speech back to probe it.
    '-probesize', '32', '-analyzeduration', '0',
    '-f', 's16le', '-ar', String(options.sampleRate), '-ac', '1', '-i', 'pipe:0',
    '-c:a', 'aac', '-b:a', AAC_BIT_RATE,
    // Each frame written as it is made: a pipe is otherwise filled 32 kB (4 s of speech) at a time.
    '-flush_packets', '1', '-f', 'adts', 'pipe:1',
  ], { stdio: ['pipe', 'pipe', 'ignore'] })
  let failure: unknown
  const fail = (err: unknown) => {
    failure ??= err
    child.kill('SIGKILL')
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      fail(new VoxgateError('internal_error', `ffmpeg could not run: ${err.message}`))
      resolve(null)
    })
    child.once('close', (code) => resolve(code))
  })
  const timer = setTimeout(
    () => fail(new VoxgateError('internal_error', `The AAC encode ran longer than ${options.maxRunMs / 1000} s.`)),
    options.maxRunMs,
  )
  const feeding = feed(pcm, child.stdin!).catch(fail)
  let size = 0
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > options.maxOutputBytes) {
        fail(new VoxgateError('internal_error', `The AAC encode passed ${options.maxOutputBytes} bytes.`))
        break
      }
      yield chunk
    }
    // A bound passed ends the encode once ffmpeg has gone, not once the input next moves (input that
    // is stuck is what the run-time bound is for).
    if (failure) {
      await exited
      throw failure
    }
    await feeding
    const code = await exited
    if (failure) throw failure
    if (code !== 0) throw new VoxgateError('internal_error', `ffmpeg ended with exit code ${code}.`)
  } finally {
    clearTimeout(timer)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}

/** Writes the PCM to ffmpeg's stdin as it comes, at the pace ffmpeg reads it, then closes it. */
async function feed(pcm: AsyncIterable<Buffer>, stdin: Writable): Promise<void> {
  // ffmpeg gone early (killed, failed) closes its stdin: the write error is the process's story, told by its exit.
  stdin.on('error', () => undefined)
  for await (const chunk of pcm) {
    if (!stdin.write(chunk))
      await new Promise((resolve) => {
        stdin.once('drain', resolve)
        stdin.once('close', resolve)
      })
    if (stdin.destroyed) return
  }
  stdin.end()
}
