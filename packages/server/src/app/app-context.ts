import type { ServerContext } from '../context.ts'
import type { Upstream } from '../gateway/upstream.ts'

/**
 * What the app layer is handed: the server's parts, and whether speech is local or relayed. Only the
 * route table and the WebSocket router choose between the two, so the upstream lives here and not in
 * ServerContext, which every layer below may read.
 */
export interface AppContext extends ServerContext {
  /** Gateway mode: the Cartesia-compatible API speech is relayed to; absent, speech is local. */
  upstream?: Upstream
}
