import { ORIGIN_PATTERN } from '@voxgate/protocol'
import { z } from 'zod'
import path from 'node:path'

/**
 * Every server option, its default and its unit, in one place. Parsed once at boot (CLI flags and
 * environment are turned into this object by the CLI), validated, then frozen: no module reads
 * process.env on its own.
 */
export const ServerConfigSchema = z.strictObject({
  /** Folder for the SQLite store and the development TLS certificate. */
  dataDir: z.string().min(1),
  /**
   * Where API keys, signing keys, revocations and usage live: `sqlite:PATH` or `postgres://…` (with
   * `?schema=NAME` to pick a schema). Unset: `voxgate.db` in dataDir. May hold a password: never logged.
   */
  storeUrl: z.string().min(1).optional(),
  /** Base64 of 32 bytes sealing signing keys in PostgreSQL (`VOXGATE_KEY_ENCRYPTION_KEY`). A secret: never logged. */
  keyEncryptionKey: z.string().min(1).optional(),
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65535).default(8443),
  /** PEM files; without them a development CA and certificate are created in dataDir. */
  tlsCertFile: z.string().optional(),
  tlsKeyFile: z.string().optional(),
  /** Serve plain HTTP, for use behind a TLS-terminating proxy only. */
  insecureHttpBehindProxy: z.boolean().default(false),
  /**
   * `Strict-Transport-Security: max-age=…` on HTTPS responses (and, behind a proxy, on those a trusted
   * proxy says it served over HTTPS); 0 sends none.
   */
  hstsMaxAgeSeconds: z.number().int().min(0).max(315_360_000).default(31_536_000),
  /** Token `iss` and `aud`; every instance of one deployment must share them. */
  issuer: z.string().min(1).default('voxgate'),
  audience: z.string().min(1).default('voxgate'),
  /** Clock skew allowed when checking `exp`, `iat` and `nbf`. */
  clockToleranceSeconds: z.number().int().min(0).max(300).default(5),
  /**
   * Redis for the state several instances share (stream slots, rate limits, revocation fan-out),
   * e.g. `redis://127.0.0.1:6379/0`; unset keeps that state in this process.
   */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Prefix of every Redis key and channel, so deployments (and test runs) can share one Redis. */
  redisPrefix: z.string().min(1).max(64).default('voxgate:'),
  /**
   * How long a request waits for one store call (a key lookup, a reservation, a rate-limit count)
   * before it is answered 503 `store_unavailable`, or the path's fallback is used. Background work
   * (settling usage, the poll, housekeeping) keeps the store's own, longer timeouts.
   */
  storeRequestTimeoutMs: z.number().int().min(50).max(60_000).default(1000),
  /** How often a running server re-reads keys, signing keys and revocations from the store. */
  storePollMs: z.number().int().min(50).max(5000).default(1000),
  /**
   * On shutdown (SIGTERM), how long open streams may go on to their natural end after the instance
   * reports not ready and stops taking new streams; the rest then end with a terminal event.
   */
  drainMs: z.number().int().min(0).max(3_600_000).default(30_000),
  /** How often expired revocations and long-retired signing keys are pruned from the store. */
  housekeepingIntervalMs: z
    .number()
    .int()
    .min(1000)
    .max(86_400_000)
    .default(10 * 60_000),
  /** Audit rows older than this many days are pruned by housekeeping. */
  auditRetentionDays: z.number().int().min(1).max(36_500).default(400),
  /** Verified tokens kept in memory so a token seen before costs a map lookup. */
  tokenCacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
  /** A request's headers must all arrive within this long of its first byte (or of the connection). */
  headersTimeoutMs: z.number().int().min(100).max(600_000).default(20_000),
  /**
   * The whole request, headers and body, must arrive within this long; a backstop behind the body
   * rate below. It covers receiving only: a long streaming response is not cut by it.
   */
  requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(300_000),
  /** Once `bodyGraceMs` has passed, a body must keep up this average rate (0: no minimum). */
  bodyMinBytesPerSecond: z
    .number()
    .int()
    .min(0)
    .max(100 * 1024 * 1024)
    .default(1000),
  bodyGraceMs: z.number().int().min(100).max(600_000).default(10_000),
  /** Request body limit for JSON routes. */
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(64 * 1024),
  /** Largest WebSocket message accepted. */
  wsMaxPayloadBytes: z
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(256 * 1024),
  /** Open contexts one WebSocket may hold. */
  wsMaxContexts: z.number().int().min(1).max(1000).default(64),
  /** Idle WebSockets are closed after this long (Cartesia: 5 minutes). */
  wsIdleTimeoutMs: z.number().int().min(100).max(3_600_000).default(300_000),
  /** How long a WebSocket may outlive its token's expiry before it must refresh in band. */
  wsSessionGraceMs: z
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .default(15 * 60_000),
  /** Tokens one API key may mint per minute (0: no limit). */
  mintPerMinute: z.number().int().min(0).max(10_000_000).default(6000),
  /** TTS streams (HTTP requests and WebSocket contexts) one API key's credentials may open per minute. */
  ttsStreamsPerMinute: z.number().int().min(0).max(10_000_000).default(6000),
  /** Proxies whose `X-Forwarded-Proto: https` is believed in plain-HTTP mode. */
  trustedProxies: z.array(z.string().min(1)).default(['127.0.0.1', '::1', '::ffff:127.0.0.1']),
  /** Origins allowed to use the token cookie and to open WebSockets from a browser. */
  allowedOrigins: z.array(z.string().regex(ORIGIN_PATTERN)).default([]),
  /** Cookie that carries an access token in cookie mode; unset disables cookie auth. */
  tokenCookieName: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  /** Speech synthesis worker threads (1 to 64); defaults to the number of cores. Each keeps its engines warm (a few seconds of CPU to start). */
  speechWorkers: z.number().int().min(1).max(64).optional(),
  /**
   * Speech workers are ready without warming their engines: seconds of CPU less per worker at start, and
   * the first sentences each worker speaks are slower (the engines' code is not yet compiled hot).
   */
  speechColdStart: z.boolean().default(false),
  /** Speech recognisers (one worker thread and ~96 MB each): STT streams and uploads served at once; more get 503 `server_busy`. */
  sttMaxStreams: z.number().int().min(1).max(64).default(4),
  /** PocketSphinx's en-us model folder (Debian's `pocketsphinx-en-us` puts it here). */
  sttModelDir: z.string().min(1).default('/usr/share/pocketsphinx/model/en-us'),
  /**
   * Where the recognisers' calibration is kept between starts (a small JSON file, remade when the model,
   * PocketSphinx or Flite changes); unset: `stt-calibration.json` in the data folder.
   */
  sttCalibrationFile: z.string().min(1).optional(),
  /** Largest `POST /stt` / `/audio/transcriptions` file (OpenAI's limit is 25 MB). */
  sttUploadLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(500 * 1024 * 1024)
    .default(25 * 1024 * 1024),
  /** Longest audio one upload may hold, once decoded. */
  sttMaxUploadSeconds: z
    .number()
    .int()
    .min(1)
    .max(4 * 3600)
    .default(1200),
  /** Seconds of streamed audio that may wait for the recogniser before the socket is told `rate_limited`. */
  sttMaxBacklogSeconds: z.number().min(0.5).max(600).default(30),
  /**
   * Gateway mode: a Cartesia-compatible API (e.g. `https://api.cartesia.ai`) that speech, voices, the
   * voice changer and STT are relayed to. HTTPS, or plain HTTP to a loopback address only.
   */
  upstreamUrl: z.string().url().optional(),
  /** The upstream's API key (`VOXGATE_UPSTREAM_API_KEY` or `--upstream-api-key-file`). A secret: never logged. */
  upstreamApiKey: z.string().min(1).optional(),
  /** How long the upstream may take to accept a connection and to send its first byte. */
  upstreamTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  /**
   * Once the upstream has started answering, the longest it may stay silent while voxgate waits for
   * its output (a request's body, an open context's audio, an STT command's answer); then the relay
   * ends with `upstream_timeout` and frees its slot. An idle socket with nothing owed is not timed.
   */
  upstreamIdleMs: z.number().int().min(100).max(3_600_000).default(30_000),
  /** Gateway mode: a JSON file mapping OpenAI's voice names to the upstream's voice ids (openai/voice-map.ts). */
  openAiVoiceMapFile: z.string().min(1).optional(),
  /**
   * The `ffmpeg` that encodes OpenAI's `aac` (found on PATH when not given). Looked for at start;
   * absent, `response_format: "aac"` is refused and every other format still works.
   */
  ffmpegPath: z.string().min(1).optional(),
  /**
   * One `aac` encode (an ffmpeg process) may run this long, from its first input byte to its last
   * output byte; then ffmpeg is killed and the response cut short. 4,096 characters speak in far less.
   */
  aacMaxRunMs: z.number().int().min(1000).max(3_600_000).default(300_000),
  /**
   * One `aac` encode may write at most this many bytes; then ffmpeg is killed and the response cut
   * short. 4,096 characters of speech at 64 kbit/s are well under 4 MB.
   */
  aacMaxOutputBytes: z
    .number()
    .int()
    .min(1024)
    .max(1_073_741_824)
    .default(16 * 1024 * 1024),
  /** Gateway mode: upstream failures in a row (5xx, 429, 401/403, timeout, network) that open the circuit. */
  upstreamFailureThreshold: z.number().int().min(1).max(1000).default(5),
  /** Gateway mode: how long an open circuit skips the upstream before probing it; doubled per failed probe, up to 5 minutes. */
  upstreamCooldownMs: z.number().int().min(1000).max(300_000).default(10_000),
  /** Gateway mode: `local` serves TTS (and STT where PocketSphinx is installed) offline when the upstream fails. */
  fallback: z.enum(['local']).optional(),
  /** With `fallback`: a JSON file mapping upstream voice ids to local ones, read at start. */
  fallbackVoiceMapFile: z.string().min(1).optional(),
  /** TTS cache size in MiB (0: no cache); rendered `/tts/bytes` audio, LRU, entries up to 5 MiB. */
  ttsCacheMb: z.number().int().min(0).max(65_536).default(0),
  /** Keep the TTS cache in Redis (shared by every instance, under the same size cap) instead of this process. */
  ttsCacheRedis: z.boolean().default(false),
  /** A cache hit costs the token's budget and the quotas nothing. */
  ttsCacheFree: z.boolean().default(false),
  /** `key`: each API key (the one that minted the token) has a cache of its own; `global`: one for all. */
  ttsCacheScope: z.enum(['key', 'global']).default('key'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: one readable line per event on a terminal, JSON otherwise; `json` / `pretty` force one. */
  logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /** Serve Prometheus metrics (`GET /metrics`) on a listener of their own; off by default. */
  metrics: z.boolean().default(false),
  /** The metrics listener's address: loopback, so metrics are never public by accident. */
  metricsHost: z.string().min(1).default('127.0.0.1'),
  /** The metrics listener's port (0 picks a free one). */
  metricsPort: z.number().int().min(0).max(65535).default(9464),
  /**
   * Webhooks may reach private, loopback and link-local addresses, and `http://` URLs (development
   * and tests: a receiver on this machine). Cloud metadata addresses stay refused.
   */
  webhookAllowPrivate: z.boolean().default(false),
  /** Serve the operator console at `/console/` on this listener (docs/console.md); off by default. */
  console: z.boolean().default(false),
  /**
   * The URL people reach this server at (`https://voice.example.com`): the console's own origin, which
   * a state-changing request with the console cookie must come from. Unset: `https://` + the Host header.
   */
  publicUrl: z
    .string()
    .url()
    .regex(/^https:\/\//, 'must be an https:// URL')
    .optional(),
})

export type ServerConfigInput = z.input<typeof ServerConfigSchema>
export type ServerConfig = Readonly<z.output<typeof ServerConfigSchema>>

export function parseConfig(input: ServerConfigInput): ServerConfig {
  const parsed = ServerConfigSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TypeError(`invalid server option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`)
  }
  if (Boolean(parsed.data.tlsCertFile) !== Boolean(parsed.data.tlsKeyFile)) {
    throw new TypeError('invalid server option: --tls-cert and --tls-key go together')
  }
  if (parsed.data.headersTimeoutMs > parsed.data.requestTimeoutMs) {
    // Node refuses it too: the headers are part of the request.
    throw new TypeError('invalid server option: the headers timeout must not exceed the request timeout')
  }
  if (parsed.data.tokenCookieName && parsed.data.allowedOrigins.length === 0) {
    // A cookie rides along with any cross-site request; without an allowlist it could never be honoured.
    throw new TypeError('invalid server option: --token-cookie needs at least one --allowed-origin')
  }
  if (Boolean(parsed.data.upstreamUrl) !== Boolean(parsed.data.upstreamApiKey)) {
    throw new TypeError(
      "invalid server option: --upstream needs the upstream's API key (VOXGATE_UPSTREAM_API_KEY or --upstream-api-key-file), and the key needs --upstream",
    )
  }
  if (parsed.data.openAiVoiceMapFile && !parsed.data.upstreamUrl) {
    // Local speech maps OpenAI's names to its own voices (docs/openai.md); the file names upstream voices.
    throw new TypeError('invalid server option: --openai-voice-map is for gateway mode; it needs --upstream')
  }
  if (parsed.data.fallback && !parsed.data.upstreamUrl) {
    throw new TypeError('invalid server option: --fallback applies to gateway mode; give --upstream too')
  }
  if (parsed.data.fallbackVoiceMapFile && !parsed.data.fallback) {
    throw new TypeError('invalid server option: --fallback-voice-map needs --fallback local')
  }
  if (parsed.data.ttsCacheRedis && (!parsed.data.redisUrl || parsed.data.ttsCacheMb === 0)) {
    throw new TypeError('invalid server option: --tts-cache-redis needs --redis and --tts-cache-mb')
  }
  const config = { ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) }
  return Object.freeze({
    ...config,
    allowedOrigins: Object.freeze([...config.allowedOrigins]) as string[],
    trustedProxies: Object.freeze([...config.trustedProxies]) as string[],
  })
}

export const DEFAULT_DATA_DIR = '.voxgate'
