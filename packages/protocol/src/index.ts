/**
 * `@voxgate/protocol`: the wire facts every voxgate part shares (the error catalogue, grant names,
 * limits, the API version, the origin syntax, the one definition of a character, JWT readings, event
 * shapes) and the request types. This entry imports nothing, so browsers and the app kit can use it
 * freely; the zod schemas the server validates with are in `@voxgate/protocol/schemas`.
 */
export * from './api-version.ts'
export * from './characters.ts'
export * from './errors.ts'
export * from './events.ts'
export * from './grant-names.ts'
export * from './jwt.ts'
export * from './limits.ts'
export * from './origin.ts'
export type * from './access-token.ts'
export type * from './grants.ts'
export type * from './tts-request.ts'
export type * from './voices.ts'
export * from './stt-events.ts'
