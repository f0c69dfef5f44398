// The speech packages ship JavaScript without type declarations; these cover only what voxgate calls.

declare module '@echogarden/espeak-ng-emscripten' {
  export interface EspeakEvent {
    type: 'word' | 'sentence' | 'phoneme' | 'end' | 'mark' | 'samplerate' | string
    /** 1-based position in the input, in code points. */
    text_position: number
    word_length: number
    /** Milliseconds from the start of this synthesis. */
    audio_position: number
    id?: number | string
  }
  export interface ESpeakNGWorker {
    set_voice(voice: string): number
    set_rate(wordsPerMinute: number): void
    set_pitch(pitch: number): void
    get_samplerate(): number
    list_voices(): { identifier: string; name: string; languages: { name: string; priority: number }[] }[]
    /** The callback returns true to stop synthesis. */
    synthesize(text: string, callback: (samples: Int16Array | null, events: EspeakEvent[] | null) => boolean): void
  }
  export interface EspeakModule {
    eSpeakNGWorker: new () => ESpeakNGWorker
  }
  const init: () => Promise<EspeakModule>
  export default init
}

declare module '@echogarden/speex-resampler-wasm/simd' {
  export interface SpeexModule {
    HEAP16: Int16Array
    HEAPU32: Uint32Array
    _malloc(bytes: number): number
    _free(ptr: number): void
    _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number
    _speex_resampler_destroy(state: number): void
    _speex_resampler_get_input_latency(state: number): number
    _speex_resampler_get_output_latency(state: number): number
    _speex_resampler_process_int(
      state: number,
      channel: number,
      inPtr: number,
      inLenPtr: number,
      outPtr: number,
      outLenPtr: number,
    ): number
  }
  const init: () => Promise<SpeexModule>
  export default init
}
