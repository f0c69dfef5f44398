import {
  isOrigin,
  LIMIT_CHARACTERS_MAX,
  LIMIT_CONCURRENT_STREAMS_MAX,
  LIMIT_ORIGINS_MAX,
  LIMIT_VOICES_MAX,
  SUB_MAX_CHARS,
} from '@voxgate/protocol'
import type { VoiceUser } from './user.ts'

/**
 * voxgate's per-token limits (`limits` of `POST /access-token`; see the README's "Limits"). Every
 * field is optional; the bounds mirror voxgate's and are checked here before anything is sent.
 */
export interface TokenLimits {
  /** Transcript characters the token may synthesize over its life, 1..100 000 000. */
  characters?: number
  /** Streams the token may hold open at once, 1..100. */
  concurrent_streams?: number
  /** Voice ids the token may use: 1..100 ids of 1..128 characters. */
  voices?: readonly string[]
  /** Origins (`https://app.example.com`) the token may be used from: 1..20. */
  origins?: readonly string[]
}

/** What `tokenFor` decides for one signed-in user; each field left out keeps the kit's default. */
export interface TokenSpec {
  /** The token's `sub`, 1..256 characters. @default the `subject` option's answer */
  sub?: string
  /** What the token may do. @default the `grants` option */
  grants?: Readonly<Record<string, boolean>>
  /** voxgate only: per-token limits. @default none */
  limits?: TokenLimits
}

/** What a mint sends: the grants, and `sub` / `limits` when there are any. */
export interface ResolvedTokenSpec {
  grants: Readonly<Record<string, boolean>>
  sub: string | undefined
  limits: TokenLimits | undefined
}

const GRANT = /^[a-z][a-z0-9_]{0,31}$/

function bad(what: string): never {
  throw new TypeError(`app-kit: invalid token ${what} (from the grants option, subject or tokenFor)`)
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isInt = (v: unknown, min: number, max: number): boolean =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max

function onlyKeys(v: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(v)) if (!allowed.includes(key)) bad(`${what} (unknown field)`)
}

function strings(v: unknown, maxItems: number, ok: (s: string) => boolean, what: string): readonly string[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > maxItems || !v.every((s) => typeof s === 'string' && ok(s)))
    bad(what)
  return Object.freeze([...(v as string[])])
}

export function checkSub(sub: unknown): string {
  if (typeof sub !== 'string' || sub.length < 1 || sub.length > SUB_MAX_CHARS) bad('sub')
  return sub
}

/** Grants are a small object of named booleans (`{ tts: true }`). */
export function checkGrants(grants: unknown): Readonly<Record<string, boolean>> {
  if (!isObject(grants) || Object.keys(grants).length > 16) bad('grants')
  for (const [name, value] of Object.entries(grants)) if (!GRANT.test(name) || typeof value !== 'boolean') bad('grants')
  return Object.freeze({ ...(grants as Record<string, boolean>) })
}

export function checkLimits(limits: unknown): TokenLimits {
  if (!isObject(limits)) bad('limits')
  onlyKeys(limits, ['characters', 'concurrent_streams', 'voices', 'origins'], 'limits')
  const { characters, concurrent_streams: streams, voices, origins } = limits
  if (characters !== undefined && !isInt(characters, 1, LIMIT_CHARACTERS_MAX)) bad('limits.characters')
  if (streams !== undefined && !isInt(streams, 1, LIMIT_CONCURRENT_STREAMS_MAX)) bad('limits.concurrent_streams')
  return Object.freeze({
    ...(characters !== undefined && { characters: characters as number }),
    ...(streams !== undefined && { concurrent_streams: streams as number }),
    ...(voices !== undefined && {
      voices: strings(voices, LIMIT_VOICES_MAX, (s) => s.length >= 1 && s.length <= 128, 'limits.voices'),
    }),
    ...(origins !== undefined && { origins: strings(origins, LIMIT_ORIGINS_MAX, isOrigin, 'limits.origins') }),
  })
}

function checkSpec(spec: unknown): TokenSpec {
  if (!isObject(spec)) bad('answer (expected an object)')
  onlyKeys(spec, ['sub', 'grants', 'limits'], 'answer')
  return {
    ...(spec.sub !== undefined && { sub: checkSub(spec.sub) }),
    ...(spec.grants !== undefined && { grants: checkGrants(spec.grants) }),
    ...(spec.limits !== undefined && { limits: checkLimits(spec.limits) }),
  }
}

/**
 * The token to mint for `user`: `tokenFor`'s answer over the kit's defaults. A malformed answer is
 * the app's bug, so it is a TypeError (the route answers a generic 500 and logs the error's name).
 */
/** The options that decide a token (the resolved options satisfy it). */
export interface TokenSpecSource {
  readonly tokenFor?: ((user: VoiceUser) => Promise<TokenSpec> | TokenSpec) | undefined
  readonly subject: ((user: VoiceUser) => string) | false
  readonly grants: Readonly<Record<string, boolean>>
}

export async function tokenSpecFor(o: TokenSpecSource, user: VoiceUser): Promise<ResolvedTokenSpec> {
  const custom = o.tokenFor ? checkSpec(await o.tokenFor(user)) : {}
  const sub = custom.sub ?? (o.subject === false ? undefined : checkSub(o.subject(user)))
  return { grants: custom.grants ?? o.grants, sub, limits: custom.limits }
}
