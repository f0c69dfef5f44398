/** The grants an access token may carry (Cartesia's `tts`, `stt`, `agent`, and voxgate's `voices`). */
export type GrantName = 'tts' | 'stt' | 'agent' | 'voices'
export const GRANT_NAMES: readonly GrantName[] = ['tts', 'stt', 'agent', 'voices']
