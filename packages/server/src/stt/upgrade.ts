import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { VoxgateError } from '@voxgate/protocol'
import { SttTurnsQuery, SttWebSocketQuery, type TurnSettings } from '@voxgate/protocol/schemas'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import { authenticateRequest, type HandshakeRoute, queryOf } from '../http/authenticate.ts'
import { parseOr400 } from '../http/validate.ts'
import { ManualSttSocket } from './manual-socket.ts'
import { assertSttModel } from './models.ts'
import type { Recognizer } from './pool.ts'
import type { SttSocket, SttSocketInit } from './socket.ts'
import { TurnsSttSocket } from './turns-socket.ts'
import { AudioAllowance } from './allowance.ts'

export const STT_SOCKET_PATHS: ReadonlySet<string> = new Set(['/stt/websocket', '/stt/turns/websocket'])

/** The query as an object; a repeated parameter (`keyterm`) becomes an array. */
export function queryObject(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of new Set(query.keys())) {
    const all = query.getAll(key)
    out[key] = all.length > 1 ? all : all[0]!
  }
  return out
}

/**
 * `/stt/websocket` and `/stt/turns/websocket`. Everything that can refuse the socket is checked before
 * the upgrade, so the client gets an HTTP status: credential and `stt` grant (401/403), query (400),
 * model (400), the token's concurrent streams and audio budget (429), a free recogniser (503). The
 * caller (app/websocket-router.ts) turns a rejection into that HTTP answer.
 */
export async function upgradeStt(
  ctx: SttContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  { id: requestId, access }: HandshakeRoute,
): Promise<void> {
  const path = (req.url ?? '').split('?')[0]
  const query = queryOf(req.url)
  const principal = await authenticateRequest(ctx, req, query, { grant: 'stt' }, true, { id: requestId, access })
  return ctx.refusals.counting(principal, async () => {
    const turnsQuery =
      path === '/stt/turns/websocket' ? parseOr400(SttTurnsQuery, queryObject(query), 'query') : undefined
    const params = turnsQuery ?? parseOr400(SttWebSocketQuery, queryObject(query), 'query')
    assertSttModel(params.model)
    let target: SttSocket | undefined
    let revokedEarly: VoxgateError | undefined
    const lease = await ctx.streams.open(
      principal,
      (err) => (target ? target.revoked(err) : (revokedEarly = err)),
      'stt',
    )
    let recognizer: Recognizer
    let allowance: AudioAllowance
    try {
      // The first minute of audio is reserved before the upgrade: a spent budget is a 429 the client sees.
      allowance = await AudioAllowance.open(ctx.stt.usage, principal)
    } catch (err) {
      lease.release()
      throw err
    }
    try {
      recognizer = await ctx.stt.recognizers.acquire()
    } catch (err) {
      allowance.close()
      lease.release()
      throw err
    }
    if (revokedEarly || socket.destroyed) {
      recognizer.release()
      allowance.close()
      lease.release()
      throw revokedEarly ?? new VoxgateError('invalid_request', 'The client went away.')
    }
    const init = (ws: SttSocketInit['ws']): SttSocketInit => ({
      ctx,
      ws,
      tcp: socket as Socket,
      principal,
      recognizer,
      lease,
      allowance,
      requestId,
      encoding: params.encoding,
      sampleRate: params.sample_rate,
    })
    ctx.stt.wss.handleUpgrade(req, socket, head, (ws) => {
      target = turnsQuery ? new TurnsSttSocket(init(ws), turnSettings(turnsQuery)) : new ManualSttSocket(init(ws))
      logOpen(ctx, requestId, path, principal)
    })
  })
}

export function turnSettings(q: SttTurnsQuery): TurnSettings {
  return {
    ...(q.turn_start_threshold !== undefined && { start_threshold: q.turn_start_threshold }),
    ...(q.turn_eager_end_threshold !== undefined && { eager_end_threshold: q.turn_eager_end_threshold }),
    ...(q.turn_end_threshold !== undefined && { end_threshold: q.turn_end_threshold }),
    ...(q.turn_end_timeout_ms !== undefined && { end_timeout_ms: q.turn_end_timeout_ms }),
  }
}

function logOpen(ctx: SttContext, reqId: string, path: string | undefined, p: Principal): void {
  ctx.logger.info({ reqId, path, key_id: p.keyId, sub: p.kind === 'token' ? p.sub : undefined }, 'websocket open')
}
