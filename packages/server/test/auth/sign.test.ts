import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { jwtVerify } from 'jose'
import { signJwt } from '../../src/auth/sign.ts'

// signJwt signs on libuv's thread pool (sign.ts says why): these hold what that must not change.

const { privateKey } = generateKeyPairSync('ed25519')
const publicKey = createPublicKey(privateKey)
const claims = (jti: string) => ({ iss: 'voxgate', aud: 'voxgate', jti, exp: Math.floor(Date.now() / 1000) + 60 })

describe('signJwt', () => {
  test('64 tokens signed at once each verify with jose and carry their own claims and kid', async () => {
    const ids = Array.from({ length: 64 }, (_, i) => `tok_${i}`)
    const tokens = await Promise.all(ids.map((jti) => signJwt('sig_a', privateKey, claims(jti))))
    for (const [i, token] of tokens.entries()) {
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, { algorithms: ['EdDSA'] })
      assert.equal(payload.jti, ids[i])
      assert.deepEqual(protectedHeader, { alg: 'EdDSA', kid: 'sig_a', typ: 'JWT' })
    }
  })

  test('a key that cannot sign rejects the promise (no synchronous throw, no token)', async () => {
    const { privateKey: x25519 } = generateKeyPairSync('x25519')
    let result: Promise<string> | undefined
    assert.doesNotThrow(() => {
      result = signJwt('sig_a', x25519, claims('tok_x'))
    })
    await assert.rejects(result!)
  })
})
