import { z } from 'zod'
import { SUB_MAX_CHARS, TOKEN_TTL_MAX_SECONDS } from '@voxgate/protocol'
import { Grants, TokenLimits } from '@voxgate/protocol/schemas'

/**
 * The claims of a voxgate access token, checked at run time after the signature: a token we signed
 * with an older or buggy build must still never be trusted by shape alone.
 */
export const TokenClaims = z
  .object({
    iss: z.string(),
    aud: z.union([z.string(), z.array(z.string())]),
    iat: z.number().int(),
    exp: z.number().int(),
    nbf: z.number().int().optional(),
    jti: z.string().min(1).max(128),
    /** The API key that minted the token; revoking the key revokes the token. */
    key_id: z.string().min(1).max(128),
    grants: Grants,
    sub: z.string().min(1).max(SUB_MAX_CHARS).optional(),
    limits: TokenLimits.optional(),
  })
  .refine((c) => c.exp > c.iat && c.exp - c.iat <= TOKEN_TTL_MAX_SECONDS, 'lifetime out of range')

export type TokenClaims = z.infer<typeof TokenClaims>
