/**
 * The close codes voxgate's sockets end with (RFC 6455 §7.4), one table for every role: local and
 * relayed, TTS and STT. Clients branch on them, so each keeps its meaning everywhere.
 */

/** A normal end: the stream finished, or the socket was idle for too long. */
export const CLOSE_NORMAL = 1000
export const CLOSE_IDLE = 1000
/** The server is shutting down (or the upstream went away with nothing open). */
export const CLOSE_SHUTDOWN = 1001
/** A text frame that is not UTF-8 (RFC 6455 §7.4.1). */
export const CLOSE_INVALID_DATA = 1007
/** The client sends faster than it is served, or does not read what it is sent. */
export const CLOSE_POLICY = 1008
/** A recogniser failed, or the upstream went away mid-stream ("internal error"). */
export const CLOSE_INTERNAL = 1011
/** A credential that was revoked or ran out (HTTP 401's meaning, in the 4000 range). */
export const CLOSE_CREDENTIAL = 4401
