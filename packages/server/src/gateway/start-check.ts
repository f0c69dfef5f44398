import type { Logger } from 'pino'
import { API_VERSION, VoxgateError } from '@voxgate/protocol'
import { callUpstream } from './call.ts'
import type { Upstream } from './upstream.ts'

/** The start check failed: the upstream refused the key. The message names no secret. */
export class UpstreamRefusedKey extends Error {
  constructor() {
    super(
      "the upstream refused voxgate's upstream API key (HTTP 401/403 on GET /voices); check VOXGATE_UPSTREAM_API_KEY or --upstream-api-key-file",
    )
    this.name = 'UpstreamRefusedKey'
  }
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
    if (err instanceof VoxgateError && err.code === 'upstream_unauthorized') {
      upstream.close()
      throw new UpstreamRefusedKey()
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
