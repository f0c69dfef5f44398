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
  // The module's shape lives in resample.ts, so the published declarations never name this untyped package.
  const init: () => Promise<import('./resample.ts').SpeexModule>
  export default init
}
