/**
 * The server's layers, lowest first. A unit is a folder directly under src (`auth`) or a file
 * directly under src (`context.ts`); each belongs to exactly one layer. A module may import its own
 * layer and the layers below it, never one above; two units never import each other, even inside one
 * layer; and no module imports itself back through others. A lower layer that must reach a higher one
 * (the WebSocket router dispatching to the features, the store naming a feature's types) is handed a
 * function or an interface by the layer above instead of importing it.
 *
 * Every import counts, `import type` too: a type names the folder a reader must open to understand
 * the module, which is what the layers are for.
 *
 * test/architecture/import-graph.test.ts checks the whole of src against this table; docs/development.md
 * ("Layers") explains it.
 */
export interface Layer {
  readonly name: string
  /** What the layer is for, in one line (docs/development.md shows it). */
  readonly holds: string
  /** Folders (`auth`) and top-level files (`context.ts`) of src. */
  readonly units: readonly string[]
}

export const LAYERS: readonly Layer[] = [
  {
    name: 'base',
    holds:
      'process-wide facilities that know nothing of speech or keys: clock, config, ids, hashing, logging, TLS files',
    units: [
      'clock.ts',
      'config.ts',
      'ids.ts',
      'sha256.ts',
      'logger.ts',
      'version.ts',
      'fault-log.ts',
      'fs-safety.ts',
      'start-errors.ts',
      'port-check.ts',
      'undo-stack.ts',
      'workers.ts',
      'layers.ts',
      'tls',
    ],
  },
  {
    name: 'store',
    holds:
      'durable state (SQLite, PostgreSQL) and the records kept in it: keys, their scopes and policies, the audit log, the webhook outbox and its delivery',
    units: ['scopes.ts', 'store', 'audit', 'webhooks'],
  },
  {
    name: 'cluster',
    holds: 'the connection to Redis that instances share',
    units: ['shared'],
  },
  {
    name: 'engines',
    holds: 'speech synthesis: engines, worker pools, voices, text splitting, resampling, encoders, the TTS cache',
    units: ['tts'],
  },
  {
    name: 'auth',
    holds: 'API keys, access tokens, credentials, the key ring, revocations, and their sync from the store',
    units: ['auth', 'state-sync.ts'],
  },
  {
    name: 'accounting',
    holds: 'streams and their slots, rate limits, budgets, quotas, the usage ledger, refusals, metrics',
    units: ['streams', 'quotas', 'usage', 'metrics'],
  },
  {
    name: 'context',
    holds: 'ServerContext: the parts built once at start that routes and transports are handed; the periodic clean-up',
    units: ['context.ts', 'housekeeping.ts'],
  },
  {
    name: 'transports',
    holds: "HTTP plumbing (guard, validation, authentication, CORS), a WebSocket's life, the TTS transports",
    units: ['http', 'sockets', 'transports'],
  },
  {
    name: 'features',
    holds:
      'speech to text, the gateway relays, the OpenAI-compatible routes, the Cartesia routes, key administration, the console',
    units: ['stt', 'gateway', 'openai', 'routes', 'keys', 'console'],
  },
  {
    name: 'app',
    holds: 'the route table and WebSocket router that compose the features, error mapping, the OpenAPI document',
    units: ['app', 'openapi'],
  },
  {
    name: 'server',
    holds:
      'composition and entry points: the factories that build each group of parts, startServer, the CLI, the package index',
    units: ['assembly', 'server.ts', 'cli', 'index.ts'],
  },
]
