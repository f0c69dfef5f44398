/**
 * The duplicate-key scan of relayed socket messages (gateway/duplicate-keys.ts): JSON.parse keeps the
 * last of two equal keys, another reader may keep the first, so a message with one is refused.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { VoxgateError } from '@voxgate/protocol'
import { checkNoDuplicateKeys, duplicateKeyOf } from '../../src/gateway/duplicate-keys.ts'

const CASES: [string, string | undefined][] = [
  ['{"voice":"other","voice":"allowed"}', 'voice'],
  ['{"transcript":"long","context_id":"a","transcript":"short"}', 'transcript'],
  // Compared decoded, as a reader compares them.
  ['{"voice":"a","vo\\u0069ce":"b"}', 'voice'],
  ['{"a":{"b":1,"b":2}}', 'b'],
  ['[{"a":1},{"x":[{"k":1,"k":2}]}]', 'k'],
  ['{"__proto__":1,"__proto__":2}', '__proto__'],
  ['{ "a" : 1 , "a" : 2 }', 'a'],
  // Equal keys in different objects, and keys in values, are fine.
  ['{"a":{"b":1},"b":2}', undefined],
  ['[{"a":1},{"a":2}]', undefined],
  ['{"a":"\\"a\\":","b":"a"}', undefined],
  ['{"t":"<x y=\\"1\\" y=\\"2\\"/>","u":["a","a"]}', undefined],
  ['{"a\\\\":1,"a":2}', undefined],
  ['{}', undefined],
  ['"just a string"', undefined],
  ['[1,"a",{"a":null}]', undefined],
]

describe('duplicateKeyOf', () => {
  for (const [text, key] of CASES) test(text, () => assert.equal(duplicateKeyOf(text), key))

  test('deep nesting is scanned without recursion', () => {
    const depth = 100_000
    const text = `${'{"a":'.repeat(depth)}{"z":1,"z":2}${'}'.repeat(depth)}`
    assert.equal(duplicateKeyOf(text), 'z')
  })

  test('checkNoDuplicateKeys refuses with invalid_request naming the key', () => {
    assert.throws(
      () => checkNoDuplicateKeys('{"voice":"a","voice":"b"}'),
      (err: unknown) =>
        err instanceof VoxgateError && err.code === 'invalid_request' && /"voice" twice/.test(err.message),
    )
    assert.doesNotThrow(() => checkNoDuplicateKeys('{"voice":"a"}'))
  })
})
