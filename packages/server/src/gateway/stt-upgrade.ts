import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { z } from 'zod'
import { STT_BYTES_PER_SAMPLE, STT_SAMPLE_RATE_MAX, STT_SAMPLE_RATE_MIN, type VoxgateError } from '@voxgate/protocol'
import { SttEncoding } from '@voxgate/protocol/schemas'
import type { GatewayContext } from './gateway-context.ts'
import { authenticateRequest, type HandshakeRoute, queryOf } from '../http/authenticate.ts'
import { parseOr400 } from '../http/validate.ts'
import { AudioAllowance } from '../stt/allowance.ts'
import { queryObject } from '../stt/upgrade.ts'
import { SttRelay } from './stt-socket-relay.ts'
import { completeUpgrade } from './tts-upgrade.ts'
import type { Upstream } from './upstream.ts'
import { type Started, startThrough } from './circuit-breaker.ts'
import { connectUpstream } from './upstream-socket.ts'
import { upstreamFailureReason } from './upstream-failure.ts'
import { type FailedSttHandshake, localSttQuery, serveSttLocally, sttTakeover } from './stt-socket-fallback.ts'
import type { StreamLease } from '../streams/registry.ts'
import type WebSocket from 'ws'

/**
 * What the relay reads of an STT socket's query: the audio's encoding and rate, to count seconds.
 * Model, language and the rest are the upstream's to judge (its models and languages are not ours).
 */
const RelayedAudioQuery = z.object({
  encoding: SttEncoding,
  sample_rate: z.coerce.number().int().min(STT_SAMPLE_RATE_MIN).max(STT_SAMPLE_RATE_MAX),
})

/**
 * Gateway mode's STT socket handshake, in the local one's order: credential and `stt` grant, the
 * query's audio format, the token's concurrent streams and audio budget (the first minute reserved),
 * then the upstream socket, and only then the client's upgrade, so every refusal is an HTTP answer.
 */
export async function upgradeSttRelay(
  ctx: GatewayContext,
  api: Upstream,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  { id: requestId, access }: HandshakeRoute,
): Promise<void> {
  const path = (req.url ?? '').split('?')[0] ?? ''
  const query = queryOf(req.url)
  const principal = await authenticateRequest(ctx, req, query, { grant: 'stt' }, true, { id: requestId, access })
  return ctx.refusals.counting(principal, async () => {
    const audio = parseOr400(RelayedAudioQuery, queryObject(query), 'query')
    let served: { revoked(err: VoxgateError): void } | undefined
    let revokedEarly: VoxgateError | undefined
    const lease = await ctx.streams.open(
      principal,
      (err) => (served ? served.revoked(err) : (revokedEarly = err)),
      'stt',
    )
    const relayTo = async ({ value: upstream, ticket: circuit }: Started<WebSocket>, taken: Taken) => {
      const early = taken.revokedEarly()
      if (early) {
        circuit.abandoned()
        upstream.terminate()
        throw early
      }
      const client = await completeUpgrade(ctx.stt.wss, req, socket, head, upstream).catch((err: unknown) => {
        circuit.abandoned()
        throw err
      })
      const handshake = { ctx, socket, principal, lease: taken.lease, allowance: taken.allowance, requestId }
      const takeover = ctx.fallback ? sttTakeover(handshake, path, queryObject(query)) : undefined
      const bytesPerSecond = STT_BYTES_PER_SAMPLE[audio.encoding] * audio.sample_rate
      const relay = new SttRelay({
        ctx,
        api,
        client,
        upstream,
        tcp: socket as Socket,
        principal,
        ...taken,
        requestId,
        bytesPerSecond,
        commands: path === '/stt/turns/websocket' ? 'turns' : 'manual',
        circuit,
        ...(takeover && { takeover }),
      })
      return { served: relay, ws: client }
    }
    let allowance: AudioAllowance | undefined
    try {
      allowance = await AudioAllowance.open(ctx.stt.usage, principal)
      let upstream: Started<WebSocket> | undefined
      let failure: unknown
      try {
        upstream = await startThrough(ctx.circuit, () => connectUpstream(api, path, req))
      } catch (err) {
        failure = err
      }
      const taken = { lease, allowance, revokedEarly: () => revokedEarly }
      const opened = upstream
        ? await relayTo(upstream, taken)
        : await fallBack(failure, {
            ctx,
            req,
            socket,
            head,
            requestId,
            principal,
            path,
            query: queryObject(query),
            ...taken,
          })
      served = opened.served
      ctx.logger.info(
        {
          reqId: requestId,
          path,
          key_id: principal.keyId,
          sub: principal.kind === 'token' ? principal.sub : undefined,
        },
        'websocket open',
      )
    } catch (err) {
      allowance?.close()
      lease.release()
      throw err
    }
  })
}

interface Taken {
  lease: StreamLease
  allowance: AudioAllowance
  revokedEarly(): VoxgateError | undefined
}

/** `--fallback local` where it applies (stt-socket-fallback.ts); otherwise the upstream's failure stands. */
async function fallBack(err: unknown, handshake: Omit<FailedSttHandshake, 'reason'>) {
  const reason = handshake.ctx.fallback ? upstreamFailureReason(err) : undefined
  const local = reason ? localSttQuery(handshake.path, handshake.query) : undefined
  if (!reason || !local) throw err
  return serveSttLocally({ ...handshake, reason }, local)
}
