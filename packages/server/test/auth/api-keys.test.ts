import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { API_KEY_PREFIX, generateApiKey, hashApiKey, looksLikeJwt, sameDigest } from '../../src/auth/api-keys.ts'
import { readCookie } from '../../src/auth/credentials.ts'

describe('API keys', () => {
  test('a key is sk_vx_ + 256 random bits; only its digest and a display prefix are kept', () => {
    const a = generateApiKey()
    const b = generateApiKey()
    assert.match(a.key, /^sk_vx_[A-Za-z0-9_-]{43}$/)
    assert.notEqual(a.key, b.key)
    assert.notEqual(a.id, b.id)
    assert.equal(a.hash, hashApiKey(a.key))
    assert.match(a.hash, /^[0-9a-f]{64}$/)
    assert.equal(a.prefix, a.key.slice(0, API_KEY_PREFIX.length + 6))
    assert.ok(!a.hash.includes(a.key) && !a.prefix.includes(a.key.slice(12)))
  })

  test('digests compare equal only when equal, whatever their length', () => {
    const h = hashApiKey('sk_vx_x')
    assert.equal(sameDigest(h, hashApiKey('sk_vx_x')), true)
    assert.equal(sameDigest(h, hashApiKey('sk_vx_y')), false)
    assert.equal(sameDigest(h, h.slice(0, 62)), false)
    assert.equal(sameDigest(h, ''), false)
  })

  test('keys and tokens are told apart by value', () => {
    assert.equal(looksLikeJwt('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln'), true)
    assert.equal(looksLikeJwt('sk_vx_abc'), false)
    assert.equal(looksLikeJwt('sk_car_abc'), false)
    assert.equal(looksLikeJwt('eyJ.only.two.dots.more'), false)
    assert.equal(looksLikeJwt('eyJ abc.def.ghi'), false)
  })

  test('a cookie is read by exact name; two of the same name are refused', () => {
    assert.equal(readCookie('a=1; vx=tok; b=2', 'vx'), 'tok')
    assert.equal(readCookie('vxx=1; xvx=2', 'vx'), undefined)
    assert.equal(readCookie('vx=', 'vx'), undefined)
    assert.throws(() => readCookie('vx=mine; vx=planted', 'vx'), { code: 'invalid_credentials' })
  })
})
