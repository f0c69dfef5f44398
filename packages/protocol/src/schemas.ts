/**
 * `@voxgate/protocol/schemas`: the zod schemas of every request voxgate validates (server side).
 * The types they infer are also exported, without zod, from `@voxgate/protocol`.
 */
export * from './access-token.ts'
export * from './grants.ts'
export * from './tts-request.ts'
export * from './voices.ts'
export * from './stt-request.ts'
