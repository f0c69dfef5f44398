/** The fixed-window limiter the token route and the example app's sign-in share, on a frozen clock. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { addressKey, FixedWindowLimiter, takeAll } from '../src/index.ts'

function clock(startMs = 1_767_225_600_000) {
  let t = startMs
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms
    },
  }
}

describe('FixedWindowLimiter', () => {
  test("max events per window; one more waits for the window's end, in whole seconds", () => {
    const c = clock()
    const l = new FixedWindowLimiter({ max: 3, windowSeconds: 60, now: c.now })
    for (let i = 0; i < 3; i++) assert.equal(l.take('k'), 0)
    assert.equal(l.take('k'), 60)
    c.advance(59_001)
    assert.equal(l.retryAfterSeconds('k'), 1, 'never 0 while still blocked')
    c.advance(998)
    assert.equal(l.retryAfterSeconds('k'), 1)
    c.advance(1)
    assert.equal(l.take('k'), 0, 'a new window')
  })

  test('a refused take does not count (the window does not grow)', () => {
    const c = clock()
    const l = new FixedWindowLimiter({ max: 1, windowSeconds: 10, now: c.now })
    l.take('k')
    for (let i = 0; i < 5; i++) assert.equal(l.take('k'), 10)
    c.advance(10_000)
    assert.equal(l.take('k'), 0)
  })

  test('keys are independent; refund gives one back', () => {
    const c = clock()
    const l = new FixedWindowLimiter({ max: 2, windowSeconds: 60, now: c.now })
    l.hit('a')
    l.hit('a')
    assert.equal(l.retryAfterSeconds('a'), 60)
    assert.equal(l.retryAfterSeconds('b'), 0)
    l.refund('a')
    assert.equal(l.retryAfterSeconds('a'), 0)
    l.refund('nobody') // harmless
  })

  test('takeAll hits every key only when none is blocked, and reports the longest wait', () => {
    const c = clock()
    const account = new FixedWindowLimiter({ max: 1, windowSeconds: 900, now: c.now })
    const address = new FixedWindowLimiter({ max: 5, windowSeconds: 60, now: c.now })
    assert.equal(
      takeAll([
        [account, 'a'],
        [address, 'ip'],
      ]),
      0,
    )
    assert.equal(
      takeAll([
        [account, 'a'],
        [address, 'ip'],
      ]),
      900,
    )
    assert.equal(address.retryAfterSeconds('ip'), 0)
    for (let i = 0; i < 4; i++) address.hit('ip') // 5 now: the refused call above did not count
    assert.equal(address.retryAfterSeconds('ip'), 60)
  })

  test('memory is bounded: expired windows are pruned, and past maxKeys the oldest go', () => {
    const c = clock()
    const l = new FixedWindowLimiter({ max: 1, windowSeconds: 60, maxKeys: 100, now: c.now })
    for (let i = 0; i < 50; i++) l.hit(`old-${i}`)
    c.advance(60_000)
    l.hit('new')
    assert.equal(l.size, 1, 'expired windows are dropped once a window has passed')
    for (let i = 0; i < 1000; i++) l.hit(`flood-${i}`)
    assert.equal(l.size, 100)
    assert.equal(l.retryAfterSeconds('flood-999'), 60, 'the newest keys are kept')
    assert.equal(l.retryAfterSeconds('new'), 0, 'the oldest was forgotten')
  })

  test('a key already tracked is counted, never evicted, when the map is full', () => {
    const c = clock()
    const l = new FixedWindowLimiter({ max: 3, windowSeconds: 60, maxKeys: 2, now: c.now })
    l.hit('victim')
    l.hit('other')
    l.hit('victim')
    l.hit('victim')
    assert.equal(l.retryAfterSeconds('victim'), 60)
  })

  for (const bad of [
    { max: 0, windowSeconds: 1 },
    { max: 1, windowSeconds: 0 },
    { max: 1.5, windowSeconds: 1 },
    { max: 1, windowSeconds: Number.NaN },
  ]) {
    test(`${JSON.stringify(bad)} is a TypeError`, () => {
      assert.throws(() => new FixedWindowLimiter(bad), TypeError)
    })
  }
})

describe('addressKey', () => {
  const cases: [string, string][] = [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:0:0:0:9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ]
  for (const [address, key] of cases) test(`${address} → ${key}`, () => assert.equal(addressKey(address), key))
})
