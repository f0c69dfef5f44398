/**
 * @voxgate/client: tokens from the app's own backend, speech over bytes / SSE / WebSocket, gapless
 * Web Audio playback, and speech to text from any PCM source or the microphone. Web standards only;
 * no runtime dependencies.
 */
export { VoxgateClient, type VoxgateClientOptions, type TokenInfo } from './client.ts'
export { TokenSource, type TokenSourceOptions, type TokenAnswer, type Clock } from './token-source.ts'
export { SpeechContext, type ContextRequest } from './context.ts'
export { Voices, type VoicesQuery } from './voices.ts'
export {
  ListenSession,
  type ListenOptions,
  type ListenEvent,
  type ListenEventType,
  type PcmSource,
  type PcmFrame,
  type SttWord,
} from './listen.ts'
export { microphone, CAPTURE_WORKLET_SOURCE, type MicrophoneOptions, type MicrophoneSource } from './microphone.ts'
export { AudioPlayer, type AudioPlayerOptions, type AudioContextLike } from './player.ts'
export { assertSecureUrl, assertNotApiKey } from './safety.ts'
export {
  VoxgateClientError,
  SignedOutError,
  TokenBackendError,
  UnsafeCredentialError,
  ApiError,
  ConnectionError,
  StreamError,
  AudioInputError,
  apiErrorFrom,
  type ClientErrorCode,
  type ServerErrorCode,
  type ServerErrorBody,
} from './errors.ts'
export type {
  Transport,
  SpeakRequest,
  SpeakOptions,
  SpeechChunk,
  SpeechStream,
  RawOutputFormat,
  RawEncoding,
  Voice,
  VoicePage,
  WordTimestamps,
  WebSocketLike,
  WebSocketConstructor,
} from './types.ts'
