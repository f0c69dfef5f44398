/** PcmFrames: PCM in chunks of any length, odd ones included, cut into whole encoder frames byte for byte. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PcmFrames } from '../../src/openai/pcm-frames.ts'

const pcm = (samples: number[]) => Buffer.from(Int16Array.from(samples).buffer)

test('chunks split anywhere, odd bytes included, become the same frames; the remainder is the short last frame', () => {
  const bytes = pcm([1, -2, 3, -4, 5, -6, 7])
  const frames = new PcmFrames(3)
  const out = [bytes.subarray(0, 3), bytes.subarray(3, 4), bytes.subarray(4, 13)].flatMap((c) => frames.push(c))
  assert.deepEqual(
    out.map((f) => Array.from(f)),
    [
      [1, -2, 3],
      [-4, 5, -6],
    ],
  )
  // Byte 13 (half of the last sample) never arrived: half a sample is no sample.
  assert.equal(frames.rest(), undefined)
})

test('the last sample completes across chunks, and nothing is left after rest()', () => {
  const bytes = pcm([1, -2, 3, -4])
  const frames = new PcmFrames(3)
  assert.deepEqual(
    frames.push(bytes.subarray(0, 7)).map((f) => Array.from(f)),
    [[1, -2, 3]],
  )
  assert.deepEqual(frames.push(bytes.subarray(7)), [])
  assert.deepEqual(Array.from(frames.rest()!), [-4])
  assert.equal(frames.rest(), undefined)
})
