import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { VoxgateError } from '@voxgate/protocol'
import { SttTurnsQuery, SttWebSocketQuery } from '@voxgate/protocol/schemas'
import type { Principal } from '../auth/principal.ts'
import type { GatewayContext } from './gateway-context.ts'
import type { AudioAllowance } from '../stt/allowance.ts'
import { ManualSttSocket } from '../stt/manual-socket.ts'
import type { Recognizer } from '../stt/pool.ts'
import { isSttModel } from '../stt/models.ts'
import type { SttSocket } from '../stt/socket.ts'
import { TurnsSttSocket } from '../stt/turns-socket.ts'
import { turnSettings } from '../stt/upgrade.ts'
import type { StreamLease } from '../streams/registry.ts'
import { completeLocalUpgrade } from './local-upgrade.ts'
import type { UpstreamFailureReason } from './upstream-failure.ts'

/** The local recogniser's model when the relayed query names one of the upstream's it does not know. */
const LOCAL_MODEL = 'ink-2'

/** A relayed STT handshake the upstream failed, with what was already taken for it. */
export interface FailedSttHandshake {
  ctx: GatewayContext
  req: IncomingMessage
  socket: Duplex
  head: Buffer
  requestId: string
  principal: Principal
  path: string
  query: Record<string, string | string[]>
  /** The stream slot and the first minute of audio, taken before the upstream was called: the local socket keeps them. */
  lease: StreamLease
  allowance: AudioAllowance
  reason: UpstreamFailureReason
  /** A revocation that landed while the handshake was under way: the upgrade is refused with it. */
  revokedEarly(): VoxgateError | undefined
}

/**
 * The relayed query as the local socket reads it, or undefined when the local recogniser cannot
 * serve it (a language other than English, a rate or encoding it does not take): the upstream's
 * failure then stands. Every Cartesia model is served by the one local engine, so an unknown model
 * (the upstream's own) is read as `ink-2`.
 */
export function localSttQuery(
  path: string,
  query: Record<string, string | string[]>,
): { turns?: SttTurnsQuery; params: SttWebSocketQuery } | undefined {
  const model = typeof query.model === 'string' && isSttModel(query.model) ? query.model : LOCAL_MODEL
  const local = { ...query, model }
  if (path !== '/stt/turns/websocket') {
    const parsed = SttWebSocketQuery.safeParse(local)
    return parsed.success ? { params: parsed.data } : undefined
  }
  const parsed = SttTurnsQuery.safeParse(local)
  return parsed.success ? { turns: parsed.data, params: parsed.data } : undefined
}

/**
 * `--fallback local` for `/stt/websocket` and `/stt/turns/websocket`: the upstream failed the
 * handshake (or its circuit is open), so the client's socket opens all the same and the local
 * recogniser hears it, with the slot and audio allowance the relay had taken, every event
 * `fallback: "local"` and the 101 labelled `X-Voxgate-Fallback: local`. Rejects with the
 * recogniser's own refusal (503 `stt_unavailable` where PocketSphinx is not installed, `server_busy`).
 * The caller releases the lease and allowance on a rejection.
 */
export async function serveSttLocally(h: FailedSttHandshake, local: NonNullable<ReturnType<typeof localSttQuery>>) {
  const recognizer = await h.ctx.stt.recognizers.acquire()
  let ws: Awaited<ReturnType<typeof completeLocalUpgrade>>
  try {
    const revoked = h.revokedEarly()
    if (revoked) throw revoked
    ws = await completeLocalUpgrade(h.ctx.stt.wss, h.req, h.socket, h.head)
  } catch (err) {
    recognizer.release()
    throw err
  }
  h.ctx.metrics.fallback(h.reason)
  h.ctx.logger.warn({ reqId: h.requestId, reason: h.reason }, 'upstream failed; recognising locally (--fallback local)')
  return { served: localSocket(h, local, ws, recognizer), ws }
}

/** What a local socket needs of the relayed handshake: who, on which connection, with what slot and allowance. */
export type LocalSocketInput = Pick<
  FailedSttHandshake,
  'ctx' | 'socket' | 'principal' | 'lease' | 'allowance' | 'requestId'
>

type LocalQuery = NonNullable<ReturnType<typeof localSttQuery>>

/**
 * The local recogniser's socket on the client's `ws`, every event labelled `fallback: "local"`.
 * `tookOver`: the socket was open already (a relay handed it over), so the turns socket's
 * `connected` greeting, which the client had from the upstream, is not sent again.
 */
function localSocket(
  h: LocalSocketInput,
  local: LocalQuery,
  ws: WebSocket,
  recognizer: Recognizer,
  tookOver = false,
): SttSocket {
  const init = {
    ctx: h.ctx,
    ws,
    tcp: h.socket as Socket,
    principal: h.principal,
    recognizer,
    lease: h.lease,
    allowance: h.allowance,
    requestId: h.requestId,
    encoding: local.params.encoding,
    sampleRate: local.params.sample_rate,
    fallback: true,
    tookOver,
  }
  return local.turns ? new TurnsSttSocket(init, turnSettings(local.turns)) : new ManualSttSocket(init)
}

/** How a relayed socket that lost its upstream is taken over by the local recogniser (stt-socket-relay.ts). */
export interface SttTakeover {
  /** The local recogniser, or its refusal (503 `stt_unavailable`, `server_busy`). */
  recognizer(): Promise<Recognizer>
  /** The local socket on the client's `ws`, with the relay's slot and audio allowance, which it keeps. */
  serve(ws: WebSocket, recognizer: Recognizer, reason: UpstreamFailureReason): SttSocket
}

/**
 * `--fallback local` for a relayed STT socket whose upstream goes mid-way, or undefined where the
 * local recogniser cannot hear this query (the socket then closes as without a fallback).
 */
export function sttTakeover(h: LocalSocketInput, path: string, query: Record<string, string | string[]>) {
  const local = localSttQuery(path, query)
  if (!local) return undefined
  const takeover: SttTakeover = {
    recognizer: () => h.ctx.stt.recognizers.acquire(),
    serve: (ws, recognizer, reason) => {
      h.ctx.metrics.fallback(reason)
      h.ctx.logger.warn(
        { reqId: h.requestId, reason },
        'upstream lost mid-stream; recognising locally (--fallback local)',
      )
      return localSocket(h, local, ws, recognizer, true)
    },
  }
  return takeover
}
