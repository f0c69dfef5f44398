import { KEK_ENV } from '../store/key-sealing.ts'
import type { CliOption } from './options.ts'

/** Where the keys live: every command that opens the store takes these. */
export const STORE_OPTIONS: readonly CliOption[] = [
  { flag: 'data', env: 'VOXGATE_DATA_DIR', kind: 'string', key: 'dataDir', arg: 'DIR', help: 'data folder: the default SQLite store, TLS files (default ./.voxgate)' },
  { flag: 'store', kind: 'string', key: 'storeUrl', arg: 'URL', help: 'sqlite:PATH or postgres://USER@HOST/DB[?schema=NAME] (default: voxgate.db in the data folder)' },
  { env: KEK_ENV, kind: 'string', key: 'keyEncryptionKey', help: 'with PostgreSQL: 32 bytes in base64 (openssl rand -base64 32) sealing the signing keys' },
]

/** Every `voxgate serve` option; the flag parser, the environment and the help all come from here. */
export const SERVE_OPTIONS: readonly CliOption[] = [
  { flag: 'host', kind: 'string', key: 'host', arg: 'H', help: 'address to listen on (default 127.0.0.1)' },
  { flag: 'port', kind: 'int', key: 'port', arg: 'N', help: 'port (default 8443; 0 picks a free one)' },
  ...STORE_OPTIONS,
  { flag: 'redis', kind: 'string', key: 'redisUrl', arg: 'URL', help: 'redis://… shared by every instance: stream slots, rate limits, revocation notices' },
  { flag: 'redis-prefix', kind: 'string', key: 'redisPrefix', arg: 'P', help: 'prefix of every Redis key and channel (default voxgate:)' },
  { flag: 'tls-cert', kind: 'string', key: 'tlsCertFile', arg: 'FILE', help: 'PEM certificate chain (with --tls-key)' },
  { flag: 'tls-key', kind: 'string', key: 'tlsKeyFile', arg: 'FILE', help: 'PEM private key (with --tls-cert)' },
  { flag: 'insecure-http-behind-proxy', kind: 'switch', key: 'insecureHttpBehindProxy', help: 'plain HTTP, only behind a TLS-terminating proxy' },
  { flag: 'hsts-max-age', kind: 'int', key: 'hstsMaxAgeSeconds', arg: 'SECONDS', help: 'Strict-Transport-Security max-age on HTTPS responses (default 31536000, one year; 0 sends none)' },
  { flag: 'trusted-proxy', kind: 'list', key: 'trustedProxies', arg: 'ADDR', help: 'proxy address whose X-Forwarded-Proto: https is believed (repeatable; default 127.0.0.1 and ::1)' },
  { flag: 'allowed-origin', kind: 'list', key: 'allowedOrigins', arg: 'URL', help: 'origin allowed to use the token cookie and browser WebSockets (repeatable)' },
  { flag: 'token-cookie', kind: 'string', key: 'tokenCookieName', arg: 'NAME', help: 'read an access token from this cookie (cookie mode)' },
  { flag: 'log-level', kind: 'string', key: 'logLevel', arg: 'LEVEL', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
  { flag: 'log-format', kind: 'string', key: 'logFormat', arg: 'FORMAT', help: 'auto|json|pretty: one readable line per event on a terminal, JSON otherwise (default auto)' },
  { flag: 'metrics', kind: 'switch', key: 'metrics', help: 'serve Prometheus metrics at GET /metrics on a listener of their own (off by default)' },
  { flag: 'metrics-host', kind: 'string', key: 'metricsHost', arg: 'H', help: 'address of the metrics listener (default 127.0.0.1: loopback only)' },
  { flag: 'metrics-port', kind: 'int', key: 'metricsPort', arg: 'N', help: 'port of the metrics listener, plain HTTP (default 9464)' },
  { flag: 'mint-per-minute', kind: 'int', key: 'mintPerMinute', arg: 'N', help: 'tokens one API key may mint per minute (default 6000; 0 = no limit)' },
  { flag: 'tts-streams-per-minute', kind: 'int', key: 'ttsStreamsPerMinute', arg: 'N', help: 'TTS streams one API key\'s credentials may open per minute (default 6000)' },
  { flag: 'headers-timeout-seconds', kind: 'seconds', key: 'headersTimeoutMs', arg: 'N', help: 'a request\'s headers must arrive within N s (default 20)' },
  { flag: 'request-timeout-seconds', kind: 'seconds', key: 'requestTimeoutMs', arg: 'N', help: 'a whole request, headers and body, must arrive within N s (default 300)' },
  { flag: 'body-min-rate', kind: 'int', key: 'bodyMinBytesPerSecond', arg: 'BYTES', help: 'after the grace, a body must average BYTES per second (default 1000; 0 = no minimum)' },
  { flag: 'body-grace-seconds', kind: 'seconds', key: 'bodyGraceMs', arg: 'N', help: 'seconds a body may take before the minimum rate applies (default 10)' },
  { flag: 'stt-max-streams', kind: 'int', key: 'sttMaxStreams', arg: 'N', help: 'speech recognisers (simultaneous STT streams) at once; beyond: 503 server_busy (default 4)' },
  { flag: 'stt-model-dir', kind: 'string', key: 'sttModelDir', arg: 'DIR', help: 'PocketSphinx en-us model folder (default /usr/share/pocketsphinx/model/en-us)' },
  { flag: 'upstream', env: 'VOXGATE_UPSTREAM', kind: 'string', key: 'upstreamUrl', arg: 'URL', help: 'gateway mode: relay speech, voices, STT and the voice changer to this Cartesia-compatible API (e.g. https://api.cartesia.ai), voxgate\'s tokens and limits in front; https://, or http:// to a loopback address' },
  { env: 'VOXGATE_UPSTREAM_API_KEY', kind: 'string', key: 'upstreamApiKey', help: 'with --upstream: the upstream\'s API key (or --upstream-api-key-file, not both); never a flag, which ps would show' },
  { flag: 'upstream-api-key-file', kind: 'file', key: 'upstreamApiKey', arg: 'FILE', help: 'with --upstream: read the upstream\'s API key from FILE (a trailing newline is dropped)' },
  { flag: 'upstream-timeout-seconds', kind: 'seconds', key: 'upstreamTimeoutMs', arg: 'N', help: 'with --upstream: the upstream must accept a connection, and start answering, within N s (default 10)' },
  { flag: 'drain-seconds', kind: 'seconds', key: 'drainMs', arg: 'N', help: 'on SIGTERM: not ready at once, no new streams, open ones get N s to finish (default 30)' },
  { flag: 'ws-session-grace-seconds', kind: 'seconds', key: 'wsSessionGraceMs', arg: 'N', help: 'how long a WebSocket may outlive its token (default 900)' },
]
