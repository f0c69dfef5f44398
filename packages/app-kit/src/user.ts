/** The signed-in user of the app, as the app's own `authenticate` reports it. */
export interface VoiceUser {
  /** The app's stable user id; sent to voxgate as the token's `sub` (see `subject`). */
  id: string
  /**
   * An id of the signed-in session (not the secret in its cookie; a hash of it will do). The token
   * route throttles minting per session (`mintLimit`). @default the user id (throttled per user)
   */
  session?: string
}
