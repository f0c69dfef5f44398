import type { Socket } from 'node:net'
import type { Feature, SocketHandler } from './feature.ts'
import { authenticateRequest, originOf, queryOf } from '../http/authenticate.ts'
import {
  registerOpenAiModelRoute,
  registerOpenAiSpeechRoutes,
  registerOpenAiTranscriptionRoutes,
} from '../openai/routes.ts'
import { registerTtsRoutes } from '../routes/tts.ts'
import { registerVoiceChangerRoutes } from '../routes/voice-changer.ts'
import { registerVoiceRoutes } from '../routes/voices.ts'
import { registerSttRoutes } from '../stt/routes.ts'
import type { SttContext } from '../stt/service.ts'
import { STT_SOCKET_PATHS, upgradeStt } from '../stt/upgrade.ts'
import { TtsSocket } from '../transports/websocket/socket.ts'
import { OPENAI_DOCS } from '../openai/docs.ts'
import { TTS_DOCS } from '../routes/tts-docs.ts'
import { VOICE_CHANGER_DOCS } from '../routes/voice-changer-docs.ts'
import { VOICE_DOCS } from '../routes/voices-docs.ts'
import { STT_DOCS } from '../stt/docs.ts'

/** Speech from this server's engines: `/tts/bytes`, `/tts/sse` and `/tts/websocket`. */
export function localSpeech(ctx: SttContext): Feature {
  // The credential is checked before the upgrade, so a refusal is an HTTP answer.
  const socket: SocketHandler = async ({ req, socket, head, id, access, wss, track }) => {
    const principal = await authenticateRequest(ctx, req, queryOf(req.url), { grant: 'tts' }, true, { id, access })
    wss.handleUpgrade(req, socket, head, (ws) => {
      const tcp = socket as Socket
      track(new TtsSocket({ ctx, ws, principal, origin: originOf(req), requestId: id, tcp }), ws, principal)
    })
  }
  return {
    name: 'speech',
    routes: (app, guard) => registerTtsRoutes(app, ctx, guard),
    docs: TTS_DOCS,
    sockets: new Map([['/tts/websocket', socket]]),
  }
}

/** The engines' voices. */
export function localVoices(ctx: SttContext): Feature {
  return { name: 'voices', routes: (app, guard) => registerVoiceRoutes(app, ctx, guard), docs: VOICE_DOCS }
}

/** Speech to text by this server's recognisers: `/stt` and its two sockets. */
export function localStt(ctx: SttContext): Feature {
  const socket: SocketHandler = ({ req, socket, head, id, access }) =>
    upgradeStt(ctx, req, socket, head, { id, access })
  return {
    name: 'speech to text',
    routes: (app, guard) => registerSttRoutes(app, ctx, guard),
    docs: STT_DOCS,
    sockets: new Map([...STT_SOCKET_PATHS].map((path) => [path, socket])),
  }
}

/** The voice changer's routes, which say that this server has none of its own. */
export function localVoiceChanger(): Feature {
  return {
    name: 'voice changer',
    routes: (app, guard) => registerVoiceChangerRoutes(app, guard),
    docs: VOICE_CHANGER_DOCS,
  }
}

/** OpenAI's speech, models and transcriptions, on the local engines and recognisers. */
export function localOpenAi(ctx: SttContext): Feature {
  return {
    name: 'openai',
    routes: (app, guard) => {
      registerOpenAiSpeechRoutes(app, ctx, guard)
      registerOpenAiModelRoute(app, guard)
      registerOpenAiTranscriptionRoutes(app, ctx, guard)
    },
    docs: OPENAI_DOCS,
  }
}

/** Every feature served by this server itself, in the relayed list's order (the OpenAPI document's). */
export function localFeatures(ctx: SttContext): Feature[] {
  return [localVoices(ctx), localSpeech(ctx), localVoiceChanger(), localStt(ctx), localOpenAi(ctx)]
}
