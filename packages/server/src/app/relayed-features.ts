import type { Feature, SocketHandler } from './feature.ts'
import type { GatewayContext } from '../gateway/gateway-context.ts'
import type { Uploads } from '../gateway/relay-upload.ts'
import {
  registerRelayedSttRoutes,
  registerRelayedTtsRoutes,
  registerRelayedVoiceChangerRoutes,
  registerRelayedVoiceRoutes,
  relayedUploads,
} from '../gateway/routes.ts'
import { upgradeSttRelay } from '../gateway/stt-upgrade.ts'
import { openTtsBridge } from '../gateway/tts-upgrade.ts'
import { registerOpenAiGatewayRoutes } from '../openai/gateway-routes.ts'
import { registerOpenAiModelRoute } from '../openai/routes.ts'
import { STT_SOCKET_PATHS } from '../stt/upgrade.ts'
import { OPENAI_DOCS } from '../openai/docs.ts'
import { TTS_DOCS } from '../routes/tts-docs.ts'
import { VOICE_CHANGER_DOCS } from '../routes/voice-changer-docs.ts'
import { VOICE_DOCS } from '../routes/voices-docs.ts'
import { STT_DOCS } from '../stt/docs.ts'

/**
 * Speech relayed to the upstream after voxgate's own checks: `/tts/bytes`, `/tts/sse` and a
 * `/tts/websocket` bridged to the upstream's (with `--fallback local`, the engines speak instead when
 * the upstream fails; gateway/fallback.ts).
 */
export function relayedSpeech(ctx: GatewayContext): Feature {
  const socket: SocketHandler = async ({ req, socket, head, id, access, wss, track }) => {
    const { bridge, client, principal } = await openTtsBridge(ctx, ctx.upstream, wss, req, socket, head, { id, access })
    track(bridge, client, principal)
  }
  return {
    name: 'speech',
    routes: (app, guard) => registerRelayedTtsRoutes(app, ctx, ctx.upstream, guard),
    docs: TTS_DOCS,
    sockets: new Map([['/tts/websocket', socket]]),
  }
}

/** The upstream's voices, cached briefly. */
export function relayedVoices(ctx: GatewayContext): Feature {
  return {
    name: 'voices',
    routes: (app, guard) => registerRelayedVoiceRoutes(app, ctx.upstream, guard),
    docs: VOICE_DOCS,
  }
}

/** Speech to text relayed to the upstream: `/stt` and its two sockets. */
export function relayedStt(ctx: GatewayContext, uploads: Uploads): Feature {
  const socket: SocketHandler = ({ req, socket, head, id, access }) =>
    upgradeSttRelay(ctx, ctx.upstream, req, socket, head, { id, access })
  return {
    name: 'speech to text',
    routes: (app, guard) => registerRelayedSttRoutes(app, uploads, guard),
    docs: STT_DOCS,
    sockets: new Map([...STT_SOCKET_PATHS].map((path) => [path, socket])),
  }
}

/** The upstream's voice changer. */
export function relayedVoiceChanger(uploads: Uploads): Feature {
  return {
    name: 'voice changer',
    routes: (app, guard) => registerRelayedVoiceChangerRoutes(app, uploads, guard),
    docs: VOICE_CHANGER_DOCS,
  }
}

/** OpenAI's speech and transcriptions, translated onto the relays; the models the gateway offers. */
export function relayedOpenAi(ctx: GatewayContext, uploads: Uploads): Feature {
  return {
    name: 'openai',
    routes: (app, guard) => {
      registerOpenAiGatewayRoutes(app, { ctx, upstream: ctx.upstream, uploads, guard })
      registerOpenAiModelRoute(app, guard, { gateway: true })
    },
    docs: OPENAI_DOCS,
  }
}

/** Every feature relayed to the upstream. The upload relays share one set of decoding threads. */
export function relayedFeatures(ctx: GatewayContext): Feature[] {
  const uploads = relayedUploads(ctx, ctx.upstream)
  return [
    relayedVoices(ctx),
    relayedSpeech(ctx),
    relayedVoiceChanger(uploads),
    relayedStt(ctx, uploads),
    relayedOpenAi(ctx, uploads),
  ]
}
