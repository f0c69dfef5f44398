import type { GatewayParts } from '../gateway/gateway-context.ts'
import type { SttContext } from '../stt/service.ts'

/**
 * What the app layer is handed: the server's parts, speech to text's, and in gateway mode the
 * upstream's. Only `speechFeatures` (speech-features.ts) chooses between local and relayed speech
 * (`inGatewayMode`), once at start, so the upstream lives here and in GatewayContext, not in ServerContext, which
 * every layer below may read.
 */
export interface AppContext extends SttContext, Partial<GatewayParts> {}
