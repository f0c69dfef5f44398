/** The grants an access token may carry (Cartesia's `tts`, `stt`, `agent`, and voxgate's `voices`, `voice_changer`). */
export type GrantName = 'tts' | 'stt' | 'agent' | 'voices' | 'voice_changer'
export const GRANT_NAMES: readonly GrantName[] = ['tts', 'stt', 'agent', 'voices', 'voice_changer']
