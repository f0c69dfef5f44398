/**
 * The TTS cache's key and its entries, unit by unit: the key is pinned (a faster canonical form must
 * give the same text, or every entry in a shared Redis cache would be missed after an upgrade); an
 * answer collected from chunks is kept byte for byte, only once it was sent whole, and never past the
 * entry cap; the memory store evicts the least recently used.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  type CachedAudio,
  CacheFill,
  canonicalJson,
  type FilledAudio,
  TTS_CACHE_MAX_ENTRY_BYTES,
  TtsCache,
} from '../../src/tts/cache.ts'
import { MemoryTtsCache } from '../../src/tts/cache-memory.ts'

const body = {
  model_id: 'sonic-3',
  transcript: 'Héllo "there" \u2028 \ud83d\ude00',
  voice: {
    mode: 'id',
    id: 'v1',
    __experimental_controls: { speed: 'fast', emotion: ['positivity:high', 'curiosity'] },
  },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
  language: 'en',
  context_id: 'c1',
  stream: true,
  generation_config: { volume: 1.5, speed: -0.25, nested: { z: null, a: [1, 'x', { b: 2, a: 1 }], u: undefined } },
  Zed: 1,
  ä: 2,
  _a: 3,
  '10': 4,
  '9': 5,
}

const cacheOf = (scope: 'key' | 'global', store = new MemoryTtsCache(1024 * 1024)) =>
  new TtsCache({ store, scope, free: false })

test('canonical JSON: keys sorted by code unit at every depth, undefined left out, arrays in order', () => {
  assert.equal(
    canonicalJson(body),
    '{"10":4,"9":5,"Zed":1,"_a":3,"context_id":"c1","generation_config":{"nested":{"a":[1,"x",{"a":1,"b":2}],"z":null},"speed":-0.25,"volume":1.5},"language":"en","model_id":"sonic-3","output_format":{"container":"raw","encoding":"pcm_s16le","sample_rate":24000},"stream":true,"transcript":"Héllo \\"there\\" \u2028 \ud83d\ude00","voice":{"__experimental_controls":{"emotion":["positivity:high","curiosity"],"speed":"fast"},"id":"v1","mode":"id"},"ä":2}',
  )
  assert.equal(
    canonicalJson([1, null, 'a', [], {}, { b: undefined }, true, 1e21, -0]),
    '[1,null,"a",[],{},{},true,1e+21,0]',
  )
})

test('the key is pinned: per API key or global, per route and version, context_id and stream left out', () => {
  const bytes = { route: '/tts/bytes', keyId: 'key_abc', version: '2025-04-16', body }
  const speech = { route: '/v1/audio/speech', keyId: 'key_abc', body }
  assert.equal(cacheOf('key').keyOf(bytes), '9b29e6f7d0a17883a1b639d6499926dff3b0659fba7a337dcaa58e1b7752268e')
  assert.equal(cacheOf('key').keyOf(speech), '06173c0c4115fb9081632a4946fe60cf028408b085328cae03f4e3d010ebce1b')
  assert.equal(cacheOf('global').keyOf(bytes), 'a7229908dac413e5b617662c8185ee4e9200d4bd1cbe616d048ba3e066da7c65')
  assert.equal(cacheOf('global').keyOf(speech), '74e01c1091fcfaeb73e1f9a67add6d2d11ed27c34fb949c5d03f7330cc7bc253')
  const otherContext = { ...body, context_id: 'other', stream: false }
  assert.equal(cacheOf('key').keyOf({ ...bytes, body: otherContext }), cacheOf('key').keyOf(bytes))
  assert.notEqual(cacheOf('key').keyOf({ ...bytes, keyId: 'key_other' }), cacheOf('key').keyOf(bytes))
  assert.equal(cacheOf('global').keyOf({ ...bytes, keyId: 'key_other' }), cacheOf('global').keyOf(bytes))
})

/** What `store` holds under `key`. */
const stored = (store: MemoryTtsCache, key: string) => store.get(key)

test('a fill keeps the answer byte for byte once complete, from chunks it was handed or that it copied', async () => {
  const store = new MemoryTtsCache(1024 * 1024)
  const cache = cacheOf('key', store)
  const copied = cache.fill('a')
  const handed = cache.fill('b')
  const chunks = [Buffer.from('one '), Buffer.alloc(5000, 7), Buffer.from('three')]
  for (const c of chunks) {
    copied.add(c, 10)
    handed.addOwned(Buffer.from(c), 10)
  }
  // A copied chunk is the fill's own: the caller may reuse its buffer.
  chunks[0]!.fill(0)
  assert.equal(await stored(store, 'a'), undefined, 'nothing is kept before the answer was sent whole')
  copied.complete('audio/wav')
  handed.complete('audio/wav', 12.4)
  const expected = Buffer.concat([Buffer.from('one '), Buffer.alloc(5000, 7), Buffer.from('three')])
  assert.deepEqual(await stored(store, 'a'), {
    contentType: 'audio/wav',
    body: expected,
    audioMs: 30,
  } satisfies CachedAudio)
  assert.deepEqual(await stored(store, 'b'), {
    contentType: 'audio/wav',
    body: expected,
    audioMs: 12,
  } satisfies CachedAudio)
})

test('a fill past the entry cap keeps nothing; one at the cap is kept', async () => {
  const store = new MemoryTtsCache(16 * 1024 * 1024)
  const cache = cacheOf('key', store)
  const over = cache.fill('over')
  const at = cache.fill('at')
  const half = TTS_CACHE_MAX_ENTRY_BYTES / 2
  for (const fill of [over, at]) {
    fill.addOwned(Buffer.alloc(half, 1))
    fill.addOwned(Buffer.alloc(half, 2))
  }
  over.addOwned(Buffer.alloc(1, 3))
  over.complete('audio/wav')
  at.complete('audio/wav')
  assert.equal(await stored(store, 'over'), undefined)
  assert.equal((await stored(store, 'at'))?.body.length, TTS_CACHE_MAX_ENTRY_BYTES)
})

test('the memory store: least recently used out first, within its bytes', async () => {
  const store = new MemoryTtsCache(10)
  const entry = (n: number): FilledAudio => ({
    contentType: 'audio/wav',
    chunks: [Buffer.alloc(n)],
    bytes: n,
    audioMs: 0,
  })
  await store.set('a', entry(4))
  await store.set('b', entry(4))
  await store.get('a')
  await store.set('c', entry(4))
  assert.equal(await store.get('b'), undefined, 'b was the least recently used')
  assert.ok(await store.get('a'))
  assert.ok(await store.get('c'))
  assert.equal(store.bytes, 8)
  await store.set('big', entry(11))
  assert.equal(await store.get('big'), undefined, 'an entry larger than the whole cache is not kept')
  assert.equal(store.bytes, 8)
})

/** What a fill hands its store once complete. */
function filled(feed: (fill: CacheFill) => void): FilledAudio {
  const kept: FilledAudio[] = []
  const fill = new CacheFill((entry) => kept.push(entry))
  feed(fill)
  fill.complete('audio/wav')
  assert.equal(kept.length, 1)
  return kept[0]!
}

test("a relayed answer's own chunks are kept as they came; tiny, borrowed or copied ones are joined into one", () => {
  const own = [Buffer.alloc(2000, 1), Buffer.alloc(1500, 2), Buffer.alloc(600, 3)]
  const asSent = filled((f) => {
    for (const c of own) f.addOwned(c)
  })
  assert.equal(asSent.bytes, 4100)
  assert.equal(asSent.chunks.length, 3)
  own.forEach((c, i) => assert.equal(asSent.chunks[i], c, 'the same buffer, not a copy'))

  const tiny = filled((f) => {
    for (let i = 0; i < 10; i++) f.addOwned(Buffer.alloc(100, i))
  })
  assert.equal(tiny.chunks.length, 1, 'chunks averaging under 1 KiB are joined')
  assert.deepEqual(tiny.chunks[0], Buffer.concat(Array.from({ length: 10 }, (_, i) => Buffer.alloc(100, i))))

  const big = Buffer.alloc(8000, 9)
  const borrowed = filled((f) => f.addOwned(big.subarray(1000, 4000)))
  assert.equal(borrowed.chunks.length, 1)
  assert.notEqual(borrowed.chunks[0]!.buffer, big.buffer, 'a view into a larger buffer is copied, not kept')
  assert.deepEqual(borrowed.chunks[0], Buffer.alloc(3000, 9))

  const copied = filled((f) => {
    f.addOwned(Buffer.alloc(2000, 1))
    f.add(Buffer.alloc(2000, 2))
  })
  assert.equal(copied.chunks.length, 1)
  assert.deepEqual(copied.chunks[0], Buffer.concat([Buffer.alloc(2000, 1), Buffer.alloc(2000, 2)]))
})

test('the memory store counts a kept answer by its bytes and joins its chunks once, on the first hit', async () => {
  const store = new MemoryTtsCache(10_000)
  const chunks = [Buffer.alloc(3000, 1), Buffer.alloc(3000, 2)]
  await store.set('k', { contentType: 'audio/wav', chunks, bytes: 6000, audioMs: 5 })
  assert.equal(store.bytes, 6000)
  const first = await store.get('k')
  assert.deepEqual(first, { contentType: 'audio/wav', body: Buffer.concat(chunks), audioMs: 5 } satisfies CachedAudio)
  assert.equal((await store.get('k'))!.body, first!.body, 'joined once: the same buffer on every later hit')
  await store.set('other', { contentType: 'audio/wav', chunks: [Buffer.alloc(5000)], bytes: 5000, audioMs: 0 })
  assert.equal(await store.get('k'), undefined, 'evicted by its bytes: 6000 + 5000 > 10000')
  assert.equal(store.bytes, 5000)
})

test('the memory store: a key set again is replaced and most recent; one large entry evicts several, oldest first', async () => {
  const store = new MemoryTtsCache(12)
  const entry = (n: number, fill = 0): FilledAudio => ({
    contentType: 'audio/wav',
    chunks: [Buffer.alloc(n, fill)],
    bytes: n,
    audioMs: 0,
  })
  for (const k of ['a', 'b', 'c', 'd']) await store.set(k, entry(3))
  await store.set('a', entry(2, 1))
  assert.equal(store.bytes, 11)
  assert.deepEqual((await store.get('a'))?.body, Buffer.alloc(2, 1))
  await store.get('b')
  // Use order now c, d, a, b: 8 more bytes push out c and d (3 + 3), not a or b.
  await store.set('e', entry(7))
  assert.deepEqual(await Promise.all(['a', 'b', 'c', 'd', 'e'].map(async (k) => (await store.get(k)) !== undefined)), [
    true,
    true,
    false,
    false,
    true,
  ])
  assert.equal(store.bytes, 12)
})
