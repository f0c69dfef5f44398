/** Why `startServer` refused to start before opening anything; the message is one line naming the fix. */
export type StartErrorCode = 'port_in_use' | 'listen_failed' | 'bad_tls' | 'bad_openai_voice_map'

export class StartError extends Error {
  constructor(
    readonly code: StartErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'StartError'
  }
}
