import type { Logger } from 'pino'
import { API_VERSION, VoxgateError } from '@voxgate/protocol'
import { callUpstream } from './call.ts'
import { UpstreamUnauthorized } from './errors.ts'
import type { Upstream } from './upstream.ts'

/**
 * The start check failed: the upstream refused the gateway (401/403). The message names the
 * upstream's status and `error_code` and the fix for it, and no secret.
 */
export class UpstreamRefusedKey extends Error {
  constructor(readonly refusal: UpstreamUnauthorized) {
    super(refusedMessage(refusal))
    this.name = 'UpstreamRefusedKey'
  }
}

function refusedMessage({ upstreamStatus, upstreamCode }: UpstreamUnauthorized): string {
  const answer = `HTTP ${upstreamStatus}${upstreamCode ? `, ${upstreamCode}` : ''}`
  if (upstreamCode === 'insecure_transport')
    return `the upstream refused the gateway's request (${answer}): it takes credentials only over HTTPS or from a trusted TLS proxy; use its https:// URL (trust its CA with NODE_EXTRA_CA_CERTS), or, on the same host, its loopback http:// URL with the gateway's address in its --trusted-proxy`
  return `the upstream refused voxgate's upstream API key (${answer}); check VOXGATE_UPSTREAM_API_KEY or --upstream-api-key-file`
}

/**
 * Checks the upstream once as the server starts, with one `GET /voices`: a key the upstream refuses
 * (401/403) stops the start, since every relay would fail; an upstream that cannot be reached now
 * (or fails otherwise) is only a warning: it may come up later, and until then relays answer 502/504.
 */
export async function checkUpstream(upstream: Upstream, logger: Logger): Promise<void> {
  const signal = new AbortController().signal
  try {
    const res = await callUpstream(upstream, {
      method: 'GET',
      path: '/voices',
      search: '?limit=1',
      headers: { accept: 'application/json' },
      cartesiaVersion: API_VERSION,
      signal,
    })
    res.resume()
    logger.info({ upstream: upstream.base.origin }, 'upstream reached')
  } catch (err) {
    if (err instanceof UpstreamUnauthorized) {
      upstream.close()
      throw new UpstreamRefusedKey(err)
    }
    logger.warn(
      {
        upstream: upstream.base.origin,
        error_code: err instanceof VoxgateError ? err.code : 'internal_error',
        reason: err instanceof Error ? upstream.scrub(err.message) : undefined,
      },
      'upstream check failed at start; starting anyway (relays answer with the upstream failure until it answers)',
    )
  }
}
