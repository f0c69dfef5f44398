import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { decodeJwt } from 'jose'
import { ManualClock } from '../helpers/clock.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { foreignKey, forgeries, signWith } from '../helpers/forge.ts'

const clock = new ManualClock(Date.now())
let t: TestServer
before(async () => {
  t = await startTestServer({}, { clock })
})
after(() => t.close())

const voices = (token: string) => call(t.url, '/voices', { headers: bearer(token) })
const ok = async (token: string) => assert.equal((await voices(token)).status, 200)
async function refused(token: string, code: string): Promise<void> {
  const res = await voices(token)
  assert.equal(res.status, 401, res.text)
  assert.equal(res.json.error_code, code)
  assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
  assert.ok(!res.text.includes(token.split('.')[2] || token), 'the token is never echoed')
}

describe('access token verification', () => {
  test('a token works until exp (+5 s skew) and not after, against the server clock', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { voices: true }, expires_in: 10 })
    await ok(token)
    clock.advance(14_000)
    await ok(token)
    clock.advance(1_000)
    await refused(token, 'token_expired')
    clock.advance(-15_000)
  })

  test('every forgery is refused as invalid_credentials', async (tc) => {
    const genuine = await mint(t.url, t.apiKey, { grants: { voices: true } })
    await ok(genuine)
    const kid = t.server.ctx.keyRing.jwks().keys[0]!.kid!
    const publicPem = createPublicKey(t.server.ctx.keyRing.signer().privateKey)
      .export({ format: 'pem', type: 'spki' })
      .toString()
    for (const [name, forged] of Object.entries(forgeries(genuine, publicPem))) {
      await tc.test(name, () => refused(forged, 'invalid_credentials'))
    }
    for (const header of ['jwk', 'jku', 'x5u']) {
      const key = foreignKey()
      const injected = await signWith(key, kid, decodeJwt(genuine), {
        [header]: header === 'jwk' ? createPublicKey(key).export({ format: 'jwk' }) : 'https://127.0.0.1:1/x',
      })
      await tc.test(`${header} header injection signed by the attacker`, () => refused(injected, 'invalid_credentials'))
    }
  })

  test('claims are pinned: issuer, audience, nbf, shape, lifetime', async () => {
    const { kid, privateKey } = t.server.ctx.keyRing.signer()
    const now = Math.floor(clock.now() / 1000)
    const base = {
      iss: 'voxgate',
      aud: 'voxgate',
      iat: now,
      exp: now + 60,
      jti: 'tok_x',
      key_id: t.apiKeyId,
      grants: { voices: true },
    }
    await ok(await signWith(privateKey, kid, base))
    await refused(await signWith(privateKey, kid, { ...base, iss: 'evil' }), 'invalid_credentials')
    await refused(await signWith(privateKey, kid, { ...base, aud: 'other' }), 'invalid_credentials')
    await refused(await signWith(privateKey, kid, { ...base, nbf: now + 60 }), 'invalid_credentials')
    await refused(await signWith(privateKey, kid, { ...base, grants: 'all' }), 'invalid_credentials')
    await refused(await signWith(privateKey, kid, { ...base, exp: now + 7200 }), 'invalid_credentials')
    const { jti: _jti, ...noJti } = base
    await refused(await signWith(privateKey, kid, noJti), 'invalid_credentials')
  })

  test('a token from another voxgate instance is refused', async () => {
    const other = await startTestServer()
    try {
      await refused(await mint(other.url, other.apiKey, { grants: { voices: true } }), 'invalid_credentials')
    } finally {
      await other.close()
    }
  })
})

describe('minting', () => {
  test("a token's payload is the bytes JSON.stringify gives for its claims object, limits and sub or not", async () => {
    const { issuer, audience } = t.server.ctx.config
    const grants = { tts: true, voices: true }
    const limits = { characters: 500, voices: ['a"b\\c', 'é'], origins: ['https://app.example.com'] }
    // Quotes, a backslash, a control character, non-ASCII, an astral character and a lone surrogate.
    const sub = 'user "1" \\ \n é \u{1F600} \ud800'
    for (const extra of [{}, { sub }, { limits }, { sub, limits }] as { sub?: string; limits?: typeof limits }[]) {
      const { token, jti, expiresAt } = await t.server.ctx.tokens.mint({
        keyId: t.apiKeyId,
        grants,
        ttlSeconds: 60,
        ...extra,
      })
      const iat = Math.floor(clock.now() / 1000)
      const claims = {
        grants,
        key_id: t.apiKeyId,
        ...(extra.limits && { limits: extra.limits }),
        iss: issuer,
        aud: audience,
        iat,
        exp: expiresAt,
        jti,
        ...(extra.sub !== undefined && { sub: extra.sub }),
      }
      assert.equal(expiresAt, iat + 60)
      assert.equal(Buffer.from(token.split('.')[1]!, 'base64url').toString(), JSON.stringify(claims))
      assert.equal((await t.server.ctx.tokens.inspect(token)).jti, jti)
    }
  })
})
