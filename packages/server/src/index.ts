/**
 * @voxgate/server as a library: start the voice server inside another Node process (tests, an
 * example app, a custom launcher). The `voxgate` CLI is the usual way to run it.
 */
export { startServer, type VoxgateServer, type VoxgateServerDeps } from './server.ts'
export { parseConfig, ServerConfigSchema, type ServerConfig, type ServerConfigInput } from './config.ts'
export { createKey } from './keys/create-key.ts'
export { main } from './cli/main.ts'
export { createLogger } from './logger.ts'
export { ensureDevTls, readTls, type DevTls } from './tls/dev-ca.ts'
