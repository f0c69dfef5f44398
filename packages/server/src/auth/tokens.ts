import { decodeJwt, errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose'
import { VoxgateError, type Grants, type TokenLimits } from '@voxgate/protocol'
import type { Clock } from '../clock.ts'
import { randomId } from '../ids.ts'
import { TokenClaims } from './claims.ts'
import { signJwt } from './sign.ts'
import type { KeyRing } from './key-ring.ts'
import type { TokenPrincipal } from './principal.ts'
import type { RevocationList } from './revocations.ts'
import { TokenCache } from './token-cache.ts'

export interface TokenServiceOptions {
  issuer: string
  audience: string
  clockToleranceSeconds: number
  cacheSize: number
}

export interface MintInput {
  keyId: string
  grants: Grants
  ttlSeconds: number
  sub?: string | undefined
  limits?: TokenLimits | undefined
}

/** Only the one algorithm we sign with is ever accepted (no `none`, no HS256 key confusion). */
const ALGORITHMS = ['EdDSA']

const invalid = (): VoxgateError => new VoxgateError('invalid_credentials', 'The access token is not valid.')

/**
 * Mints and checks access tokens. A token is verified with jose once; the result is cached by the
 * token string so a token seen before costs a map lookup plus the expiry and revocation checks that
 * must happen on every use.
 */
export class TokenService {
  readonly #cache: TokenCache

  constructor(
    private readonly options: TokenServiceOptions,
    private readonly keyRing: KeyRing,
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
  ) {
    this.#cache = new TokenCache(options.cacheSize)
  }

  async mint(input: MintInput): Promise<{ token: string; expiresAt: number; jti: string }> {
    const { kid, privateKey } = this.keyRing.signer()
    const iat = Math.floor(this.clock.now() / 1000)
    const jti = randomId('tok', 12)
    const claims: Record<string, unknown> = { grants: input.grants, key_id: input.keyId }
    if (input.limits) claims.limits = input.limits
    Object.assign(claims, {
      iss: this.options.issuer,
      aud: this.options.audience,
      iat,
      exp: iat + input.ttlSeconds,
      jti,
    })
    if (input.sub !== undefined) claims.sub = input.sub
    return { token: signJwt(kid, privateKey, claims), expiresAt: iat + input.ttlSeconds, jti }
  }

  /** Throws a coded VoxgateError; never includes the token in a message. */
  async verify(token: string): Promise<TokenPrincipal> {
    const cached = this.#cache.get(token)
    const principal = cached ?? (await this.#verifyFresh(token))
    const nowSeconds = this.clock.now() / 1000
    if (nowSeconds >= principal.expiresAtSeconds + this.options.clockToleranceSeconds) {
      this.#cache.delete(token)
      throw new VoxgateError('token_expired', 'The access token has expired.')
    }
    if (this.revocations.isTokenRevoked(principal))
      throw new VoxgateError('token_revoked', 'The access token has been revoked.')
    if (!cached) this.#cache.set(token, principal)
    return principal
  }

  /**
   * Checks a token's signature and claims but not its expiry or revocation: enough to revoke it by
   * value. A token that is not ours is refused like any invalid credential.
   */
  async inspect(token: string): Promise<TokenPrincipal> {
    let issuedAt: number
    try {
      const iat = decodeJwt(token).iat
      if (typeof iat !== 'number') throw invalid()
      issuedAt = iat
    } catch {
      throw invalid()
    }
    return this.#verifyFresh(token, new Date(issuedAt * 1000))
  }

  async #verifyFresh(token: string, at = new Date(this.clock.now())): Promise<TokenPrincipal> {
    let payload: unknown
    try {
      ;({ payload } = await jwtVerify(token, (header: JWTHeaderParameters) => this.#keyFor(header), {
        algorithms: ALGORITHMS,
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds,
        currentDate: at,
        requiredClaims: ['exp', 'iat', 'jti'],
        typ: 'JWT',
      }))
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new VoxgateError('token_expired', 'The access token has expired.')
      throw invalid()
    }
    const claims = TokenClaims.safeParse(payload)
    if (!claims.success) throw invalid()
    const c = claims.data
    return {
      kind: 'token',
      keyId: c.key_id,
      jti: c.jti,
      grants: c.grants,
      issuedAtSeconds: c.iat,
      expiresAtSeconds: c.exp,
      ...(c.sub !== undefined && { sub: c.sub }),
      ...(c.limits !== undefined && { limits: c.limits }),
    }
  }

  async #keyFor(header: JWTHeaderParameters) {
    // Keys come only from our own ring: an embedded `jwk`, `jku` or `x5u` is never consulted. An
    // unknown kid may be another instance's fresh rotation: the ring reloads once (rate-limited).
    const key = await this.keyRing.findPublicKey(header.kid)
    if (!key) throw invalid()
    return key
  }
}
