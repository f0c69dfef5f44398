/**
 * The TTS cache's block arena (tts/cache-blocks.ts): chains of blocks handed out and given back,
 * never more than it has, its segments made only as it grows, bytes read back as written (across
 * block and segment boundaries) and as a copy.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BlockArena, NO_BLOCK } from '../../src/tts/cache-blocks.ts'

test('hands out chains while it has blocks, takes them back, and refuses one block too many', () => {
  const arena = new BlockArena({ totalBytes: 10 * 64 + 63, blockBytes: 64 })
  assert.equal(arena.blocks, 10, 'a remainder under one block is not a block')
  assert.equal(arena.allocate(0), NO_BLOCK)
  const a = arena.allocate(4)!
  const b = arena.allocate(6)!
  assert.equal(arena.available, 0)
  assert.equal(arena.allocate(1), undefined)
  arena.release(a, arena.lastOf(a, 4), 4)
  assert.equal(arena.available, 4)
  assert.equal(arena.allocate(5), undefined)
  assert.notEqual(arena.allocate(4), undefined)
  arena.release(b, arena.lastOf(b, 6), 6)
  assert.equal(arena.available, 6)
})

test('bytes read back as written, across blocks and segments; a read is a copy', () => {
  // Byte-sized blocks: 10,000 of them span three segments of 4,096.
  const arena = new BlockArena({ totalBytes: 10_000, blockBytes: 1 })
  const first = arena.allocate(9_000)!
  const written = [Buffer.alloc(4_095, 1), Buffer.alloc(2, 2), Buffer.alloc(4_903, 3)]
  arena.write(first, written)
  const read = arena.read(first, 9_000)
  assert.deepEqual(read, Buffer.concat(written))
  arena.write(first, [Buffer.alloc(9_000, 9)])
  assert.deepEqual(read, Buffer.concat(written), 'the earlier read is unchanged by a later write')
})

test('segments are made only as the arena grows into them', () => {
  const arena = new BlockArena({ totalBytes: 1024 * 1024 * 1024, blockBytes: 4096 })
  assert.equal(arena.blocks, 262_144)
  const first = arena.allocate(4097)!
  arena.write(first, [Buffer.alloc(4097 * 4096, 7)])
  assert.deepEqual(arena.read(first, 4097 * 4096), Buffer.alloc(4097 * 4096, 7))
  assert.equal(arena.available, 262_144 - 4097)
})

test('nonsense sizes are TypeErrors', () => {
  assert.throws(() => new BlockArena({ totalBytes: 100, blockBytes: 0 }), TypeError)
  assert.throws(() => new BlockArena({ totalBytes: -1, blockBytes: 4 }), TypeError)
  assert.throws(() => new BlockArena({ totalBytes: 2 ** 31, blockBytes: 1 }), TypeError, 'block numbers are int32')
  assert.equal(
    new BlockArena({ totalBytes: 2 ** 31 - 1, blockBytes: 1 }).blocks,
    2 ** 31 - 1,
    'made lazily: nothing allocated',
  )
})
