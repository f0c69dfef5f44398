import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import fc from 'fast-check'
import { errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose'
import { signJwt } from '../../src/auth/sign.ts'
import { verifyJwt } from '../../src/auth/verify-jwt.ts'
import { forgeries, signWith } from '../helpers/forge.ts'

// The server checks tokens with node:crypto (src/auth/verify-jwt.ts) instead of jose's WebCrypto
// path, for speed; this holds the two to the same answer on every token we can think of: accepted,
// expired, or invalid. The one difference on purpose: a signature segment that only jose's forgiving
// base64 accepts (padding, whitespace) is refused here, and is tested separately below.

const ISSUER = 'https://voxgate.test'
const AUDIENCE = 'voxgate'
const TOLERANCE = 5
const NOW = 1_800_000_000
const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const KID = 'sig_test'
const ring = new Map<string, KeyObject>([[KID, publicKey]])

type Verdict = 'ok' | 'expired' | 'invalid'

async function byJose(token: string): Promise<Verdict> {
  try {
    await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const key = typeof header.kid === 'string' ? ring.get(header.kid) : undefined
        if (!key) throw new Error('unknown kid')
        return key
      },
      {
        algorithms: ['EdDSA'],
        issuer: ISSUER,
        audience: AUDIENCE,
        clockTolerance: TOLERANCE,
        currentDate: new Date(NOW * 1000),
        requiredClaims: ['exp', 'iat', 'jti'],
        typ: 'JWT',
      },
    )
    return 'ok'
  } catch (err) {
    return err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid'
  }
}

async function byVoxgate(token: string): Promise<Verdict> {
  const result = await verifyJwt(token, {
    issuer: ISSUER,
    audience: AUDIENCE,
    clockToleranceSeconds: TOLERANCE,
    nowSeconds: NOW,
    requiredClaims: ['exp', 'iat', 'jti'],
    keyFor: (kid) => (typeof kid === 'string' ? ring.get(kid) : undefined),
  })
  return result.ok ? 'ok' : result.reason
}

const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISSUER,
  aud: AUDIENCE,
  iat: NOW - 10,
  exp: NOW + 60,
  jti: 'tok_1',
  key_id: 'key_1',
  grants: { tts: true },
  ...over,
})
const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
/** Signs any header and payload segment with our key, as signJwt does for its own header. */
const signRaw = (header: unknown, payload: string): string => {
  const input = `${typeof header === 'string' ? header : b64(header)}.${payload}`
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`
}

const header = { alg: 'EdDSA', kid: KID, typ: 'JWT' }
const CASES: Record<string, () => Promise<string> | string> = {
  valid: () => signJwt(KID, privateKey, claims()),
  'valid, aud as an array': () => signJwt(KID, privateKey, claims({ aud: ['other', AUDIENCE] })),
  'valid, signed by jose': () => signWith(privateKey, KID, claims()),
  'expired by a second': () => signJwt(KID, privateKey, claims({ exp: NOW - TOLERANCE })),
  'inside the skew': () => signJwt(KID, privateKey, claims({ exp: NOW - TOLERANCE + 1 })),
  'expired and wrong audience': () => signJwt(KID, privateKey, claims({ exp: NOW - 100, aud: 'x' })),
  'wrong audience': () => signJwt(KID, privateKey, claims({ aud: 'someone-else' })),
  'audience array without ours': () => signJwt(KID, privateKey, claims({ aud: ['a', 'b'] })),
  'wrong issuer': () => signJwt(KID, privateKey, claims({ iss: 'https://evil.test' })),
  'no iss': () => signJwt(KID, privateKey, claims({ iss: undefined })),
  'no jti': () => signJwt(KID, privateKey, claims({ jti: undefined })),
  'no exp': () => signJwt(KID, privateKey, claims({ exp: undefined })),
  'exp as a string': () => signJwt(KID, privateKey, claims({ exp: String(NOW + 60) })),
  'iat as a string': () => signJwt(KID, privateKey, claims({ iat: 'yesterday' })),
  'nbf in the future': () => signJwt(KID, privateKey, claims({ nbf: NOW + TOLERANCE + 1 })),
  'nbf inside the skew': () => signJwt(KID, privateKey, claims({ nbf: NOW + TOLERANCE })),
  'nbf future and expired': () => signJwt(KID, privateKey, claims({ nbf: NOW + 100, exp: NOW - 100 })),
  'typ missing': () => signRaw({ alg: 'EdDSA', kid: KID }, b64(claims())),
  'typ lower-case': () => signRaw({ ...header, typ: 'jwt' }, b64(claims())),
  'typ application/jwt': () => signRaw({ ...header, typ: 'application/JWT' }, b64(claims())),
  'typ at+jwt': () => signRaw({ ...header, typ: 'at+jwt' }, b64(claims())),
  'alg Ed25519': () => signRaw({ ...header, alg: 'Ed25519' }, b64(claims())),
  'crit b64 true': () => signRaw({ ...header, crit: ['b64'], b64: true }, b64(claims())),
  'crit b64 false': () => signRaw({ ...header, crit: ['b64'], b64: false }, b64(claims())),
  'crit unknown': () => signRaw({ ...header, crit: ['exp'], exp: 1 }, b64(claims())),
  'crit empty': () => signRaw({ ...header, crit: [] }, b64(claims())),
  'crit duplicated': () => signRaw({ ...header, crit: ['b64', 'b64'], b64: true }, b64(claims())),
  'crit names a missing header': () => signRaw({ ...header, crit: ['b64'] }, b64(claims())),
  'header is an array': () => signRaw([header], b64(claims())),
  'payload is an array': () => signRaw(header, b64([claims()])),
  'payload not JSON': () => signRaw(header, b64('{"iss":')),
  'payload invalid UTF-8': () => signRaw(header, Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')),
  'payload with a bad base64 char': () => signRaw(header, `${b64(claims())}*`),
  'header with padding': () => signRaw(`${b64(header)}==`, b64(claims())),
  'four segments': async () => `${await signJwt(KID, privateKey, claims())}.x`,
  'two segments': async () => (await signJwt(KID, privateKey, claims())).split('.').slice(0, 2).join('.'),
  'empty signature': async () => `${(await signJwt(KID, privateKey, claims())).split('.').slice(0, 2).join('.')}.`,
  'signature of length 1 mod 4': async () => `${await signJwt(KID, privateKey, claims())}AAAAA`,
  'foreign key': () => signJwt(KID, generateKeyPairSync('ed25519').privateKey, claims()),
  'unknown kid': () => signJwt('sig_other', privateKey, claims()),
  'kid not a string': () => signRaw({ ...header, kid: 7 }, b64(claims())),
  'missing kid': () => signRaw({ alg: 'EdDSA', typ: 'JWT' }, b64(claims())),
  'alg none, no signature': () => `${b64({ alg: 'none', kid: KID, typ: 'JWT' })}.${b64(claims())}.`,
  'alg HS256 with our signature': () => signRaw({ ...header, alg: 'HS256' }, b64(claims())),
  'alg ES256 with our signature': () => signRaw({ ...header, alg: 'ES256' }, b64(claims())),
  'alg as an array': () => signRaw({ ...header, alg: ['EdDSA'] }, b64(claims())),
  'not yet valid by an hour': () => signJwt(KID, privateKey, claims({ nbf: NOW + 3600, exp: NOW + 7200 })),
}

describe('verify-jwt agrees with jose', () => {
  test('on every crafted token: accepted, expired or invalid alike', async () => {
    for (const [name, make] of Object.entries(CASES)) {
      const token = await make()
      assert.equal(await byVoxgate(token), await byJose(token), name)
    }
  })

  test('and both give the verdict each named case calls for', async () => {
    const expected: Record<string, Verdict> = {
      valid: 'ok',
      'valid, signed by jose': 'ok',
      'inside the skew': 'ok',
      'nbf inside the skew': 'ok',
      'expired by a second': 'expired',
      'wrong audience': 'invalid',
      'wrong issuer': 'invalid',
      'nbf in the future': 'invalid',
      'not yet valid by an hour': 'invalid',
      'missing kid': 'invalid',
      'unknown kid': 'invalid',
      'foreign key': 'invalid',
      'alg none, no signature': 'invalid',
      'alg HS256 with our signature': 'invalid',
      'alg ES256 with our signature': 'invalid',
      'alg Ed25519': 'invalid',
      'alg as an array': 'invalid',
    }
    for (const [name, verdict] of Object.entries(expected)) {
      const token = await CASES[name]!()
      assert.equal(await byVoxgate(token), verdict, name)
    }
  })

  test('on the forgeries every auth test uses', async () => {
    const genuine = await signJwt(KID, privateKey, claims())
    const pem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString()
    for (const [name, forged] of Object.entries(forgeries(genuine, pem))) {
      assert.equal(await byVoxgate(forged), 'invalid', name)
      assert.equal(await byJose(forged), 'invalid', name)
    }
  })

  test('on random edits of genuine tokens', async () => {
    const base = await signJwt(KID, privateKey, claims({ sub: 'user-1', limits: { characters: 100 } }))
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.constantFrom(...alphabet)), { minLength: 1, maxLength: 3 }),
        async (edits) => {
          const chars = [...base]
          for (const [at, c] of edits) chars[at] = c
          const token = chars.join('')
          assert.equal(await byVoxgate(token), await byJose(token))
        },
      ),
      { numRuns: 400, seed: 42 },
    )
  })

  test('on random claim sets signed with our key', async () => {
    const value = fc.oneof(
      fc.integer({ min: NOW - 200, max: NOW + 200 }),
      fc.string({ maxLength: 4 }),
      fc.constant(null),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { iat: value, nbf: value, exp: value, aud: fc.constantFrom(AUDIENCE, 'x', [AUDIENCE], []) },
          {
            requiredKeys: [],
          },
        ),
        async (over) => {
          const token = await signJwt(KID, privateKey, claims(over))
          assert.equal(await byVoxgate(token), await byJose(token))
        },
      ),
      { numRuns: 300, seed: 7 },
    )
  })

  test('the deliberate difference: a padded or spaced signature is refused (jose takes it)', async () => {
    const genuine = await signJwt(KID, privateKey, claims())
    const [h, p, s] = genuine.split('.') as [string, string, string]
    for (const sig of [`${s}==`, `${s.slice(0, 10)} ${s.slice(10)}`]) {
      const token = `${h}.${p}.${sig}`
      assert.equal(await byJose(token), 'ok', 'jose decodes with the forgiving atob')
      assert.equal(await byVoxgate(token), 'invalid')
    }
  })
})
