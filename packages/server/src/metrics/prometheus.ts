import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { StreamObservation, StreamObserver, StreamTransport } from '../streams/registry.ts'
import { CIRCUIT_STATES, type CircuitStateName, type Metrics, type SpeechLoad } from './metrics.ts'

/** WebSocket close codes kept as their own label value; any other (a client may send 1000..4999) is `other`. */
const KNOWN_CLOSE_CODES = new Set([1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 4401])

const FIRST_AUDIO_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]

/**
 * Metrics on (`--metrics`): counted into a Prometheus registry. A module of its own, loaded only then,
 * so a server without metrics never loads prom-client (with the OpenTelemetry API, some 90 modules).
 */
export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const m = definitions(registry)
  let readLoad: () => SpeechLoad | undefined = () => undefined
  new Gauge({
    name: 'voxgate_speech_queue_depth',
    help: 'Sentences waiting for a speech worker.',
    registers: [registry],
    collect() {
      this.set(readLoad()?.queued ?? 0)
    },
  })
  new Gauge({
    name: 'voxgate_speech_workers_busy',
    help: 'Speech workers synthesizing now.',
    registers: [registry],
    collect() {
      this.set(readLoad()?.busy ?? 0)
    },
  })
  new Gauge({
    name: 'voxgate_speech_workers',
    help: 'Speech workers running.',
    registers: [registry],
    collect() {
      this.set(readLoad()?.workers ?? 0)
    },
  })
  let readCircuit: (() => Promise<CircuitStateName>) | undefined
  new Gauge({
    name: 'voxgate_upstream_circuit_state',
    help: "Gateway mode: 1 for the upstream circuit's current state (closed, open, half_open), 0 for the others.",
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      if (!readCircuit) return
      const now = await readCircuit()
      for (const state of CIRCUIT_STATES) this.set({ state }, state === now ? 1 : 0)
    },
  })
  return {
    registry,
    streams: streamObserver(m),
    request: (method, route, status) => m.requests.inc({ method, route, status: String(status) }),
    tokenMinted: () => m.minted.inc(),
    credentialChecked: (outcome) => m.credentials.inc({ outcome }),
    revoked: (kind) => m.revocations.inc({ kind }),
    charactersSynthesized: (count) => m.characters.inc(count),
    websocketClosed: (endpoint, code) =>
      m.closes.inc({ endpoint, code: KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other' }),
    storeError: (operation) => m.storeErrors.inc({ operation }),
    redisError: () => m.redisErrors.inc(),
    speechLoad: (read) => {
      readLoad = read
    },
    upstreamCircuit: (read) => {
      readCircuit = read
    },
    fallback: (reason) => m.fallbacks.inc({ reason }),
    ttsCache: (outcome) => m.ttsCache.inc({ outcome }),
  }
}

function definitions(registry: Registry) {
  const registers = [registry]
  return {
    requests: new Counter({
      name: 'voxgate_http_requests_total',
      help: 'HTTP responses by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    minted: new Counter({ name: 'voxgate_tokens_minted_total', help: 'Access tokens minted.', registers }),
    credentials: new Counter({
      name: 'voxgate_credential_checks_total',
      help: 'Credential checks by outcome: ok or the error code.',
      labelNames: ['outcome'],
      registers,
    }),
    revocations: new Counter({
      name: 'voxgate_revocations_total',
      help: 'Revocations stored through the API, by kind (jti, sub).',
      labelNames: ['kind'],
      registers,
    }),
    characters: new Counter({
      name: 'voxgate_characters_synthesized_total',
      help: 'Characters (code points, markup excluded) handed to speech synthesis.',
      registers,
    }),
    closes: new Counter({
      name: 'voxgate_websocket_closes_total',
      help: 'WebSocket closes by endpoint and close code.',
      labelNames: ['endpoint', 'code'],
      registers,
    }),
    storeErrors: new Counter({
      name: 'voxgate_store_errors_total',
      help: 'Store calls that failed, by operation.',
      labelNames: ['operation'],
      registers,
    }),
    redisErrors: new Counter({
      name: 'voxgate_redis_errors_total',
      help: 'Errors reported by the Redis clients.',
      registers,
    }),
    fallbacks: new Counter({
      name: 'voxgate_upstream_fallbacks_total',
      help: 'Gateway mode: requests served by the offline engines instead of the upstream, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    ttsCache: new Counter({
      name: 'voxgate_tts_cache_lookups_total',
      help: 'TTS cache lookups by outcome (hit, miss).',
      labelNames: ['outcome'],
      registers,
    }),
    open: new Gauge({
      name: 'voxgate_open_streams',
      help: 'Open streams by transport.',
      labelNames: ['transport'],
      registers,
    }),
    firstAudio: new Histogram({
      name: 'voxgate_time_to_first_audio_seconds',
      help: 'From a stream taking its slot to its first audio, by transport.',
      labelNames: ['transport'],
      buckets: FIRST_AUDIO_BUCKETS,
      registers,
    }),
    duration: new Histogram({
      name: 'voxgate_stream_duration_seconds',
      help: 'How long streams stay open, by transport.',
      labelNames: ['transport'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
  }
}

function streamObserver(m: ReturnType<typeof definitions>): StreamObserver {
  return {
    opened(transport: StreamTransport): StreamObservation {
      const start = performance.now()
      const seconds = () => (performance.now() - start) / 1000
      let heard = false
      m.open.inc({ transport })
      return {
        firstAudio() {
          if (heard) return
          heard = true
          m.firstAudio.observe({ transport }, seconds())
        },
        closed() {
          m.open.dec({ transport })
          m.duration.observe({ transport }, seconds())
        },
      }
    },
  }
}
