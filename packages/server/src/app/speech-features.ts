import type { AppContext } from './app-context.ts'
import type { Feature } from './feature.ts'
import { localFeatures } from './local-features.ts'
import { relayedFeatures } from './relayed-features.ts'
import { inGatewayMode } from '../gateway/gateway-context.ts'

/**
 * The one place that chooses between local and relayed speech, once at start: the route table
 * (app.ts) and the WebSocket router register whatever this returns. A relayed list may hold local
 * pieces (the fallback's engines speak inside the relays today).
 */
export function speechFeatures(ctx: AppContext): readonly Feature[] {
  return inGatewayMode(ctx) ? relayedFeatures(ctx) : localFeatures(ctx)
}
