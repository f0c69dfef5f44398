/**
 * The TTS cache's key and its entries, unit by unit: the key is pinned (a faster canonical form must
 * give the same text, or every entry in a shared Redis cache would be missed after an upgrade); an
 * answer collected from chunks is kept byte for byte, only once it was sent whole, and never past the
 * entry cap (the memory store itself: tts-cache-memory.test.ts).
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

const cacheOf = (scope: 'key' | 'global', store = new MemoryTtsCache({ maxBytes: 1024 * 1024 })) =>
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
  const store = new MemoryTtsCache({ maxBytes: 1024 * 1024 })
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
  const store = new MemoryTtsCache({ maxBytes: 16 * 1024 * 1024 })
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

/** What a fill hands its store once complete. */
function filled(feed: (fill: CacheFill) => void): FilledAudio {
  const kept: FilledAudio[] = []
  const fill = new CacheFill((entry) => kept.push(entry))
  feed(fill)
  fill.complete('audio/wav')
  assert.equal(kept.length, 1)
  return kept[0]!
}

test("a fill hands its store a relayed answer's own chunks as they came, and copies of the others", () => {
  const own = [Buffer.alloc(2000, 1), Buffer.alloc(10, 2)]
  const lent = Buffer.alloc(600, 3)
  const entry = filled((f) => {
    for (const c of own) f.addOwned(c)
    f.add(lent)
  })
  assert.equal(entry.bytes, 2610)
  assert.equal(entry.chunks.length, 3)
  own.forEach((c, i) => assert.equal(entry.chunks[i], c, 'the same buffer, not a copy'))
  assert.notEqual(entry.chunks[2]!.buffer, lent.buffer, 'a lent chunk is copied: its sender may write it again')
  lent.fill(0)
  assert.deepEqual(entry.chunks[2], Buffer.alloc(600, 3))
})
