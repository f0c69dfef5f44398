import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

/**
 * CMU PocketSphinx 5prealpha (Debian `libpocketsphinx3`) called in-process through koffi: no compiler,
 * no build step. Only worker threads load this module; one decoder per thread (the C library keeps
 * per-decoder state and is not thread-safe on one decoder). Signatures are the non-variadic ones
 * (PROTOCOL-STT.md Part 2 B).
 */
export const POCKETSPHINX_LIBRARY = 'libpocketsphinx.so.3'
export const SPHINXBASE_LIBRARY = 'libsphinxbase.so.3'
export const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us'
export const INSTALL_COMMAND = 'apt-get install -y libpocketsphinx3 pocketsphinx-en-us'

/** 10 ms frames at 16 kHz. */
export const FRAME_SECONDS = 0.01
export const DECODER_RATE = 16000

export interface RecognizedWord {
  word: string
  /** 10 ms frames counted since the stream started (`resetState`; they run on across utterances). */
  startFrame: number
  endFrame: number
}

export interface Decoder {
  /** Frames fed since the stream started (`resetState`): where the next utterance's frames start counting. */
  readonly framesFed: number
  /**
   * Puts the decoder's carried-over state back to one fixed start: a new stream (the front end's noise
   * estimate and frame count start again) and the live cepstral mean normalisation (CMN), which each
   * utterance updates, as `keepStartState` last kept it (the model's own until then). Every upload and
   * every socket then hears the same audio the same way, whatever the decoder heard before.
   */
  resetState(): void
  /**
   * Keeps a CMN as the start every `resetState` restores: `state` (another decoder's of the same model,
   * calibration.ts), or the CMN as it is now (after calibration.ts's speech). Returns what it kept.
   */
  keepStartState(state?: CmnState): CmnState
  startUtterance(): void
  /** Feeds 16 kHz mono samples. */
  process(samples: Int16Array): void
  /** The current best hypothesis (a partial while the utterance runs). */
  hypothesis(): string
  /** The recogniser's voice-activity detector: in speech now. */
  inSpeech(): boolean
  /** Ends the utterance and returns its words in order (fillers dropped). */
  endUtterance(): RecognizedWord[]
}

const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib']

/** The PocketSphinx and SphinxBase library files installed here (what the dynamic loader finds first, in practice). */
export function libraryFiles(): string[] {
  return [POCKETSPHINX_LIBRARY, SPHINXBASE_LIBRARY].flatMap((name) => {
    const found = LIBRARY_DIRS.map((d) => path.join(d, name)).find((file) => existsSync(file))
    return found ? [found] : []
  })
}

/** Why recognition cannot run here, or undefined when the library and model are installed. */
export function missingPieces(modelDir = MODEL_DIR): string | undefined {
  const hasLib = LIBRARY_DIRS.some((d) => existsSync(path.join(d, POCKETSPHINX_LIBRARY)))
  if (!hasLib) return `${POCKETSPHINX_LIBRARY} is not installed`
  if (!existsSync(path.join(modelDir, 'en-us.lm.bin')))
    return `the PocketSphinx en-us model is not installed (${modelDir})`
  return undefined
}

/** Fillers and markers the decoder emits that are not words. */
const NOT_WORDS = new Set([
  '<s>',
  '</s>',
  '<sil>',
  '[NOISE]',
  '[SPEECH]',
  '[LAUGH]',
  '[COUGH]',
  '[BREATH]',
  '[UH]',
  '[UM]',
  '[SMACK]',
])

/** `word(2)` is an alternate pronunciation of `word`. */
export const cleanWord = (w: string): string => w.replace(/\(\d+\)$/, '')

export function loadDecoder(modelDir = MODEL_DIR): Decoder {
  const require = createRequire(import.meta.url)
  const koffi = require('koffi') as typeof import('koffi')
  const base = koffi.load(SPHINXBASE_LIBRARY)
  const ps = koffi.load(POCKETSPHINX_LIBRARY)
  const cmd_ln_parse_r = base.func(
    'void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)',
  )
  const err_set_logfp = base.func('void err_set_logfp(void *fp)')
  const ps_args = ps.func('void *ps_args()')
  const ps_init = ps.func('void *ps_init(void *config)')
  const ps_start_stream = ps.func('int ps_start_stream(void *ps)')
  const ps_start_utt = ps.func('int ps_start_utt(void *ps)')
  const ps_end_utt = ps.func('int ps_end_utt(void *ps)')
  const ps_process_raw = ps.func(
    'int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)',
  )
  const ps_get_hyp = ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)')
  const ps_get_in_speech = ps.func('uint8_t ps_get_in_speech(void *ps)')
  const ps_seg_iter = ps.func('void *ps_seg_iter(void *ps)')
  const ps_seg_next = ps.func('void *ps_seg_next(void *seg)')
  const ps_seg_word = ps.func('const char *ps_seg_word(void *seg)')
  const ps_seg_frames = ps.func('void ps_seg_frames(void *seg, _Out_ int *sf, _Out_ int *ef)')
  const ps_get_feat = ps.func('void *ps_get_feat(void *ps)')

  err_set_logfp(null)
  const argv = [
    '-hmm',
    path.join(modelDir, 'en-us'),
    '-lm',
    path.join(modelDir, 'en-us.lm.bin'),
    '-dict',
    path.join(modelDir, 'cmudict-en-us.dict'),
    '-samprate',
    String(DECODER_RATE),
  ]
  const config = cmd_ln_parse_r(null, ps_args(), argv.length, argv, 1)
  if (!config) throw new Error('pocketsphinx: the configuration was refused')
  const decoder = ps_init(config)
  if (!decoder) throw new Error('pocketsphinx: the decoder failed to load its model')
  const cmn = cmnOf(koffi, ps_get_feat(decoder))
  /** What `resetState` puts back: the model's own CMN until `keepStartState` takes a calibrated one. */
  let startCmn = cmn.read()
  const score = [0]
  let samplesFed = 0

  return {
    get framesFed() {
      return Math.floor(samplesFed / (DECODER_RATE * FRAME_SECONDS))
    },
    resetState: () => {
      // A new stream: the front end's noise estimate and the stream offset start again.
      ps_start_stream(decoder)
      cmn.write(startCmn)
      samplesFed = 0 // ps_start_stream counts frames from 0 again
    },
    keepStartState: (state) => {
      if (state) cmn.check(state)
      startCmn = state ?? cmn.read()
      return startCmn
    },
    startUtterance: () => void ps_start_utt(decoder),
    process: (samples) => {
      samplesFed += samples.length
      if (samples.length > 0 && ps_process_raw(decoder, samples, samples.length, 0, 0) < 0)
        throw new Error('pocketsphinx: ps_process_raw failed')
    },
    hypothesis: () => (ps_get_hyp(decoder, score) as string | null) ?? '',
    inSpeech: () => ps_get_in_speech(decoder) !== 0,
    endUtterance: () => {
      ps_end_utt(decoder)
      const words: RecognizedWord[] = []
      for (let seg = ps_seg_iter(decoder); seg; seg = ps_seg_next(seg)) {
        const word = ps_seg_word(seg) as string
        if (NOT_WORDS.has(word)) continue
        const sf = [0],
          ef = [0]
        ps_seg_frames(seg, sf, ef)
        words.push({ word: cleanWord(word), startFrame: sf[0]!, endFrame: ef[0]! })
      }
      return words
    },
  }
}

type Koffi = typeof import('koffi')

/** sphinxbase's live cepstral mean normalisation: everything of it that one utterance changes. */
export interface CmnState {
  mean: Float32Array
  sum: Float32Array
  nframe: number
}

/**
 * sphinxbase's `feat_t` up to its `cmn_struct` and its `cmn_t` (sphinxbase/feat.h and cmn.h of
 * 5prealpha; Debian installs no headers). The layout is checked when a decoder loads: the CMN's vector
 * length must be the feature's cepstrum size, or the decoder refuses to start.
 */
function cmnOf(koffi: Koffi, feat: unknown) {
  const FeatHead = koffi.struct({
    refcount: 'int',
    name: 'void *',
    cepsize: 'int32_t',
    n_stream: 'int32_t',
    stream_len: 'void *',
    window_size: 'int32_t',
    n_sv: 'int32_t',
    sv_len: 'void *',
    subvecs: 'void *',
    sv_buf: 'void *',
    sv_dim: 'int32_t',
    cmn: 'int',
    varnorm: 'int32_t',
    agc: 'int',
    compute_feat: 'void *',
    cmn_struct: 'void *',
  })
  const Cmn = koffi.struct({
    cmn_mean: 'void *',
    cmn_var: 'void *',
    sum: 'void *',
    nframe: 'int32_t',
    veclen: 'int32_t',
  })
  const head = koffi.decode(feat, FeatHead) as { cepsize: number; cmn_struct: bigint | null }
  const at = head.cmn_struct
  const cmn = at ? (koffi.decode(at, Cmn) as { cmn_mean: bigint; sum: bigint; veclen: number }) : undefined
  if (!at || !cmn || cmn.veclen !== head.cepsize || cmn.veclen <= 0 || cmn.veclen > 64)
    throw new Error('pocketsphinx: an unexpected sphinxbase feature layout (not 5prealpha)')
  const vector = koffi.array('float', cmn.veclen)
  const nframeAt = koffi.offsetof(Cmn, 'nframe')
  const floats = (ptr: unknown) => Float32Array.from(koffi.decode(ptr, vector) as ArrayLike<number>)
  return {
    /** The live CMN as it is now: its means, its running sum and the frames that sum counts. */
    read: (): CmnState => ({
      mean: floats(cmn.cmn_mean),
      sum: floats(cmn.sum),
      nframe: koffi.decode(at, nframeAt, 'int32_t') as number,
    }),
    /** Throws unless `state` fits this decoder's CMN (a vector of its length, finite numbers). */
    check(state: CmnState): void {
      const fits = (v: Float32Array) => v.length === cmn.veclen && v.every(Number.isFinite)
      if (!fits(state.mean) || !fits(state.sum) || !Number.isInteger(state.nframe) || state.nframe < 0)
        throw new Error('pocketsphinx: a CMN start state that does not fit this model')
    },
    write(state: CmnState): void {
      koffi.encode(cmn.cmn_mean, vector, state.mean)
      koffi.encode(cmn.sum, vector, state.sum)
      koffi.encode(at, nframeAt, 'int32_t', state.nframe)
    },
  }
}
