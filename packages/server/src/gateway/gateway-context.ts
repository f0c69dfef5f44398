import type { SttContext } from '../stt/service.ts'
import type { CircuitBreaker } from './circuit-breaker.ts'
import type { LocalFallback } from './fallback.ts'
import type { Upstream } from './upstream.ts'

/** What gateway mode adds to the server's parts: where speech is relayed, and what guards that. */
export interface GatewayParts {
  /** The Cartesia-compatible API speech is relayed to. */
  upstream: Upstream
  /** The upstream's circuit breaker; every relay's upstream call goes through it. */
  circuit: CircuitBreaker
  /** `--fallback local`: what speaks when the upstream fails. */
  fallback?: LocalFallback
  /** `--openai-voice-map`: OpenAI voice name → upstream voice id. */
  openAiVoiceMap?: ReadonlyMap<string, string>
}

/**
 * What the gateway's relays are handed. Only they read the upstream, so it lives here and not in
 * ServerContext, which every layer below the features may read.
 */
export interface GatewayContext extends SttContext, GatewayParts {}

/** The server runs as a gateway: its parts include the upstream's. */
export const inGatewayMode = (ctx: SttContext & Partial<GatewayParts>): ctx is GatewayContext =>
  ctx.upstream !== undefined && ctx.circuit !== undefined
