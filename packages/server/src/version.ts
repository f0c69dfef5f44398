import { createRequire } from 'node:module'

/** The server package's version, from its package.json (the same path from src/ and from dist/). */
export const SERVER_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version
