import type { SttContext } from '../stt/service.ts'
import type { Upstream } from '../gateway/upstream.ts'

/**
 * What the app layer is handed: the server's parts, and whether speech is local or relayed. Only the
 * route table and the WebSocket router choose between the two, so the upstream lives here and not in
 * ServerContext, which every layer below may read (likewise speech to text's parts live in SttContext).
 */
export interface AppContext extends SttContext {
  /** Gateway mode: the Cartesia-compatible API speech is relayed to; absent, speech is local. */
  upstream?: Upstream
}
