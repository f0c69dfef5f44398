import { Authenticator } from '../auth/authenticator.ts'
import { ConsoleSessions } from '../auth/console-sessions.ts'
import { ensureSigningKey, KeyRing } from '../auth/key-ring.ts'
import { RevocationList } from '../auth/revocations.ts'
import { TokenService } from '../auth/tokens.ts'
import type { AuthParts, CoreParts } from '../context.ts'
import { StateSync } from '../state-sync.ts'

/**
 * Signing keys, revocations and the credential checks built on them, read from the store before the
 * first request (a token signed by another instance's new key is looked up when first seen).
 */
export async function openAuth(core: CoreParts): Promise<AuthParts> {
  const { config, store, clock, logger } = core
  await ensureSigningKey(store, clock.now())
  const keyRing = new KeyRing()
  const revocations = new RevocationList()
  const sync = new StateSync(store, keyRing, revocations, logger)
  keyRing.onUnknownKid(() => sync.refresh())
  await sync.refresh()
  const tokens = new TokenService(
    {
      issuer: config.issuer,
      audience: config.audience,
      clockToleranceSeconds: config.clockToleranceSeconds,
      cacheSize: config.tokenCacheSize,
    },
    keyRing,
    revocations,
    clock,
  )
  const authenticator = new Authenticator(store, tokens, revocations, clock)
  return {
    ...core,
    keyRing,
    revocations,
    sync,
    tokens,
    authenticator,
    ...(config.console && { console: new ConsoleSessions(store, authenticator, clock) }),
  }
}
