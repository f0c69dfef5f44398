import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto'
import { jwtVerify } from 'jose'
import { signJwt } from '../../src/auth/sign.ts'
import { SigningThread } from '../../src/auth/signing-thread.ts'

// The signing thread takes every signature asked for in one turn of the event loop in one batch
// (signing-thread.ts): these hold that a batch changes nothing a signature's caller can see.

const ed25519 = () => generateKeyPairSync('ed25519').privateKey
const claims = (jti: string) => ({ iss: 'voxgate', aud: 'voxgate', jti, exp: Math.floor(Date.now() / 1000) + 60 })
const verifies = (key: KeyObject, input: string, signature: string) =>
  verify(null, Buffer.from(input), createPublicKey(key), Buffer.from(signature, 'base64url'))

describe('SigningThread', () => {
  test('a key rotation in the middle of a batch: each token verifies with jose under the key it was minted with', async () => {
    const [oldKey, newKey] = [ed25519(), ed25519()]
    const keyOf = (i: number) => (i < 10 ? { kid: 'sig_old', key: oldKey } : { kid: 'sig_new', key: newKey })
    // All 20 in one turn, so in one batch: the first ten with the old key, the rest with the new.
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signJwt(keyOf(i).kid, keyOf(i).key, claims(`tok_${i}`))),
    )
    for (const [i, token] of tokens.entries()) {
      const { kid, key } = keyOf(i)
      const { payload, protectedHeader } = await jwtVerify(token, createPublicKey(key), { algorithms: ['EdDSA'] })
      assert.equal(payload.jti, `tok_${i}`)
      assert.equal(protectedHeader.kid, kid)
      const other = key === oldKey ? newKey : oldKey
      await assert.rejects(jwtVerify(token, createPublicKey(other), { algorithms: ['EdDSA'] }))
    }
  })

  test('a key that cannot sign rejects its own signature only; the rest of its batch signs, in order', async () => {
    const signer = new SigningThread()
    const key = ed25519()
    const x25519 = generateKeyPairSync('x25519').privateKey
    const inputs = ['a', 'b', 'c', 'd', 'e']
    const results = await Promise.allSettled(inputs.map((input, i) => signer.sign(i === 2 ? x25519 : key, input)))
    for (const [i, r] of results.entries()) {
      if (i === 2) {
        assert.equal(r.status, 'rejected')
        assert.ok((r as PromiseRejectedResult).reason instanceof Error)
      } else {
        assert.equal(r.status, 'fulfilled')
        assert.ok(verifies(key, inputs[i]!, (r as PromiseFulfilledResult<string>).value))
      }
    }
  })

  test('more signatures at once than one batch holds: every one signs its own input', async () => {
    const signer = new SigningThread()
    const key = ed25519()
    const inputs = Array.from({ length: 600 }, (_, i) => `input ${i}`)
    const signatures = await Promise.all(inputs.map((input) => signer.sign(key, input)))
    for (const [i, signature] of signatures.entries()) assert.ok(verifies(key, inputs[i]!, signature))
  })

  test('keys that change from batch to batch: each signature is made with the key it was asked with', async () => {
    const signer = new SigningThread()
    const keys = Array.from({ length: 30 }, ed25519)
    // One batch per turn, each with keys the thread has not seen (it keeps none between batches).
    for (let from = 0; from < keys.length; from += 5) {
      const some = keys.slice(from, from + 5)
      const signatures = await Promise.all(some.map((key, i) => signer.sign(key, `key ${from + i}`)))
      for (const [i, signature] of signatures.entries()) {
        assert.ok(verifies(some[i]!, `key ${from + i}`, signature))
        assert.ok(!verifies(keys[(from + i + 1) % keys.length]!, `key ${from + i}`, signature))
      }
    }
    // A key used before is carried again by the next batch that names it.
    const again = await Promise.all(keys.slice(0, 3).map((key) => signer.sign(key, 'again')))
    for (const [i, signature] of again.entries()) assert.ok(verifies(keys[i]!, 'again', signature))
  })
})
