import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { z } from 'zod'
import { STT_BYTES_PER_SAMPLE, STT_SAMPLE_RATE_MAX, STT_SAMPLE_RATE_MIN, type VoxgateError } from '@voxgate/protocol'
import { SttEncoding } from '@voxgate/protocol/schemas'
import type { GatewayContext } from './gateway-context.ts'
import { authenticateRequest, queryOf } from '../http/authenticate.ts'
import { parseOr400 } from '../http/validate.ts'
import { AudioAllowance } from '../stt/allowance.ts'
import { queryObject } from '../stt/upgrade.ts'
import { SttRelay } from './stt-socket-relay.ts'
import { completeUpgrade } from './tts-upgrade.ts'
import type { Upstream } from './upstream.ts'
import { throughCircuit } from './circuit-breaker.ts'
import { connectUpstream } from './upstream-socket.ts'

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
  requestId: string,
): Promise<void> {
  const path = (req.url ?? '').split('?')[0] ?? ''
  const query = queryOf(req.url)
  const principal = await authenticateRequest(ctx, req, query, { grant: 'stt' }, true, { id: requestId })
  return ctx.refusals.counting(principal, async () => {
    const audio = parseOr400(RelayedAudioQuery, queryObject(query), 'query')
    let relay: SttRelay | undefined
    let revokedEarly: VoxgateError | undefined
    const lease = await ctx.streams.open(principal, (err) => (relay ? relay.revoked(err) : (revokedEarly = err)), 'stt')
    let allowance: AudioAllowance | undefined
    try {
      allowance = await AudioAllowance.open(ctx.stt.usage, principal)
      const upstream = await throughCircuit(ctx.circuit, () => connectUpstream(api, path, req))
      if (revokedEarly) {
        upstream.terminate()
        throw revokedEarly
      }
      const client = await completeUpgrade(ctx.stt.wss, req, socket, head, upstream)
      const bytesPerSecond = STT_BYTES_PER_SAMPLE[audio.encoding] * audio.sample_rate
      relay = new SttRelay({
        ctx,
        api,
        client,
        upstream,
        tcp: socket as Socket,
        principal,
        lease,
        allowance,
        requestId,
        bytesPerSecond,
        commands: path === '/stt/turns/websocket' ? 'turns' : 'manual',
      })
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
