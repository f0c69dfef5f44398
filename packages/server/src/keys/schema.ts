import { z } from 'zod'
import { GRANT_NAMES, LIMIT_AUDIO_SECONDS_MAX, LIMIT_CHARACTERS_MAX, TOKEN_TTL_MAX_SECONDS } from '@voxgate/protocol'
import { SCOPES, type Scope } from '../scopes.ts'
import { ROTATION_GRACE_DEFAULT_SECONDS, ROTATION_GRACE_MAX_SECONDS } from './rotate.ts'

/** Longest key name, characters. */
export const KEY_NAME_MAX_CHARS = 100

const Scopes = z
  .array(z.enum(SCOPES as readonly [Scope, ...Scope[]]))
  .min(1)
  .max(SCOPES.length)
  .transform((s) => [...new Set(s)])
const Name = z.string().min(1).max(KEY_NAME_MAX_CHARS)
const Rfc3339 = z.iso.datetime({ offset: true })

export const KeyPolicySchema = z.strictObject({
  allowed_grants: z.array(z.enum(GRANT_NAMES as readonly [string, ...string[]])).optional(),
  max_expires_in: z.number().int().min(1).max(TOKEN_TTL_MAX_SECONDS).optional(),
  max_limits: z
    .strictObject({
      characters: z.number().int().min(1).max(LIMIT_CHARACTERS_MAX).optional(),
      audio_seconds: z.number().int().min(1).max(LIMIT_AUDIO_SECONDS_MAX).optional(),
    })
    .optional(),
})

/** `POST /api-keys`. */
export const ApiKeyCreate = z.strictObject({
  name: Name,
  scopes: Scopes.optional(),
  expires_at: Rfc3339.optional(),
  policy: KeyPolicySchema.optional(),
})

/** `PATCH /api-keys/:id`; `expires_at: null` removes the expiry. */
export const ApiKeyPatch = z.strictObject({
  name: Name.optional(),
  scopes: Scopes.optional(),
  expires_at: Rfc3339.nullable().optional(),
})

/** `GET /api-keys`: expired keys are active (they were not revoked). */
export const ApiKeyListQuery = z.strictObject({ status: z.enum(['active', 'revoked', 'all']).default('active') })

/** `POST /api-keys/:id/rotate`: how long the replaced secret keeps working, seconds. */
export const ApiKeyRotate = z.strictObject({
  grace_seconds: z.number().int().min(0).max(ROTATION_GRACE_MAX_SECONDS).default(ROTATION_GRACE_DEFAULT_SECONDS),
})
