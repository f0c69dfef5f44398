/**
 * The memory TTS cache (tts/cache-memory.ts over tts/cache-blocks.ts): least recently used out first,
 * counted in whole blocks within its cap (exact, one past it refused), entries over the entry cap not
 * kept, a hit the answer byte for byte, and a copy: an answer still being read is not changed by the
 * fills that reuse its blocks after it was evicted (another tenant's audio would show).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FilledAudio } from '../../src/tts/cache.ts'
import { TTS_CACHE_MAX_ENTRY_BYTES } from '../../src/tts/cache.ts'
import { MemoryTtsCache, TTS_CACHE_BLOCK_BYTES } from '../../src/tts/cache-memory.ts'

const BLOCK = TTS_CACHE_BLOCK_BYTES

/** An answer of `n` bytes of `fill`, in one chunk. */
const entry = (n: number, fill = 0): FilledAudio => ({
  contentType: 'audio/wav',
  chunks: [Buffer.alloc(n, fill)],
  bytes: n,
  audioMs: 0,
})

/** Which of `keys` the store holds. */
const held = (store: MemoryTtsCache, keys: string[]) =>
  Promise.all(keys.map(async (k) => (await store.get(k)) !== undefined))

test('a hit is the answer byte for byte, from chunks of any size across blocks', async () => {
  const store = new MemoryTtsCache({ maxBytes: 64 * BLOCK })
  const chunks = [1, BLOCK - 1, 2, 3 * BLOCK + 5, 0, 777].map((n, i) =>
    Buffer.from(Array.from({ length: n }, (_, j) => (i * 31 + j * 7) & 0xff)),
  )
  const bytes = chunks.reduce((n, c) => n + c.length, 0)
  await store.set('k', { contentType: 'audio/mpeg', chunks, bytes, audioMs: 42 })
  assert.deepEqual(await store.get('k'), { contentType: 'audio/mpeg', body: Buffer.concat(chunks), audioMs: 42 })
  await store.set('empty', entry(0))
  assert.deepEqual((await store.get('empty'))?.body, Buffer.alloc(0))
})

test('counted in whole blocks: the cap is exact, one byte past it is not kept', async () => {
  const store = new MemoryTtsCache({ maxBytes: 3 * BLOCK })
  await store.set('one-byte-over-a-block', entry(BLOCK + 1))
  assert.equal(store.bytes, 2 * BLOCK, 'an answer takes whole blocks, and the cache counts them')
  await store.set('past', entry(3 * BLOCK + 1))
  assert.equal(await store.get('past'), undefined, 'one byte past the cap: not kept')
  assert.deepEqual(await held(store, ['one-byte-over-a-block']), [true], 'and nothing evicted for it')
  await store.set('at', entry(3 * BLOCK, 5))
  assert.deepEqual((await store.get('at'))?.body, Buffer.alloc(3 * BLOCK, 5), 'exactly the cap: kept')
  assert.equal(store.bytes, 3 * BLOCK)
  assert.equal(await store.get('one-byte-over-a-block'), undefined, 'evicted to make room')
})

test('a cap that is not a whole number of blocks: the remainder is never used', async () => {
  const store = new MemoryTtsCache({ maxBytes: 2 * BLOCK + 100 })
  await store.set('a', entry(2 * BLOCK + 1))
  assert.equal(await store.get('a'), undefined)
  await store.set('b', entry(2 * BLOCK))
  assert.equal(store.bytes, 2 * BLOCK)
})

test('an answer over the entry cap is not kept, even in a larger cache', async () => {
  const store = new MemoryTtsCache({ maxBytes: 16 * 1024 * 1024 })
  await store.set('over', entry(TTS_CACHE_MAX_ENTRY_BYTES + 1))
  await store.set('at', entry(TTS_CACHE_MAX_ENTRY_BYTES, 1))
  assert.deepEqual(await held(store, ['over', 'at']), [false, true])
  assert.equal(store.bytes, TTS_CACHE_MAX_ENTRY_BYTES)
})

test('least recently used out first, in blocks: a hit counts as a use', async () => {
  const store = new MemoryTtsCache({ maxBytes: 4 * BLOCK })
  for (const k of ['a', 'b', 'c', 'd']) await store.set(k, entry(BLOCK))
  await store.get('a')
  await store.set('e', entry(2 * BLOCK - 10))
  // Use order was b, c, d, a: two blocks more push out b and c.
  assert.deepEqual(await held(store, ['a', 'b', 'c', 'd', 'e']), [true, false, false, true, true])
  assert.equal(store.bytes, 4 * BLOCK)
})

test('byte-sized blocks: LRU within exact bytes; a key set again is replaced and most recent', async () => {
  const store = new MemoryTtsCache({ maxBytes: 12, blockBytes: 1 })
  for (const k of ['a', 'b', 'c', 'd']) await store.set(k, entry(3))
  await store.set('a', entry(2, 1))
  assert.equal(store.bytes, 11)
  assert.deepEqual((await store.get('a'))?.body, Buffer.alloc(2, 1))
  await store.get('b')
  // Use order now c, d, a, b: 7 bytes push out c and d (3 + 3), not a or b.
  await store.set('e', entry(7))
  assert.deepEqual(await held(store, ['a', 'b', 'c', 'd', 'e']), [true, true, false, false, true])
  assert.equal(store.bytes, 12)
  await store.set('big', entry(13))
  assert.equal(await store.get('big'), undefined, 'an entry larger than the whole cache is not kept')
  assert.equal(store.bytes, 12)
})

test('a hit being read slowly keeps its bytes while its blocks are evicted and filled again', async () => {
  const store = new MemoryTtsCache({ maxBytes: 8 * BLOCK })
  const original = Buffer.from(Array.from({ length: 3 * BLOCK + 17 }, (_, i) => (i * 13) & 0xff))
  await store.set('tenant-a', { contentType: 'audio/wav', chunks: [original], bytes: original.length, audioMs: 0 })
  const hit = (await store.get('tenant-a'))!.body
  // A reader that has taken one block so far; the rest is read after the cache moved on.
  const firstPart = Buffer.from(hit.subarray(0, BLOCK))
  for (let i = 0; i < 8; i++) await store.set(`tenant-b-${i}`, entry(BLOCK, 0xee))
  assert.equal(await store.get('tenant-a'), undefined, 'evicted, and its blocks written again')
  // All eight blocks now hold 0xee: a view into them would show the other tenant's bytes.
  assert.deepEqual(Buffer.concat([firstPart, hit.subarray(BLOCK)]), original)
})
