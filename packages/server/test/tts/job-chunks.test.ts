import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CHUNK_SECONDS, type JobDone } from '../../src/tts/job.ts'
import { PcmPieces } from '../../src/tts/pcm.ts'
import { WorkerPool } from '../../src/tts/pool.ts'

const pcm = (from: number, n: number) => Int16Array.from({ length: n }, (_, i) => from + i)

test('PcmPieces hands on whole pieces only, several at once as one array, and the rest on flush', () => {
  const pieces = new PcmPieces(4)
  assert.equal(pieces.push(pcm(0, 3)), undefined)
  assert.deepEqual([...(pieces.push(pcm(3, 2)) ?? [])], [0, 1, 2, 3])
  assert.equal(pieces.push(new Int16Array(0)), undefined)
  assert.deepEqual([...(pieces.push(pcm(5, 10)) ?? [])], [4, 5, 6, 7, 8, 9, 10, 11])
  assert.deepEqual([...(pieces.flush() ?? [])], [12, 13, 14])
  assert.equal(pieces.flush(), undefined)
  assert.deepEqual([...(pieces.push(pcm(20, 4)) ?? [])], [20, 21, 22, 23])
  assert.equal(pieces.flush(), undefined)
})

test("a speech worker hands on a job's first audio at once, then whole CHUNK_SECONDS pieces, and every sample", async () => {
  const pool = new WorkerPool({ workers: 1, warm: false })
  await pool.ready
  try {
    for (const [engine, voice] of [
      ['espeak', 'en-us'],
      ['flite', 'slt'],
    ] as const) {
      for (const sampleRate of [24000, 8000]) {
        const job = { engine, voice, text: 'Access tokens let a browser speak without the key.', speed: 1, sampleRate }
        const chunks: number[] = []
        let done: JobDone | undefined
        for await (const e of pool.start(job)) {
          if (e.type === 'chunk') chunks.push(e.pcm.length)
          else done = e
        }
        const label = `${engine} at ${sampleRate}: ${chunks.join(', ')}`
        assert.ok(done && !done.cancelled, label)
        assert.equal(
          chunks.reduce((a, n) => a + n, 0),
          done.samples,
          label,
        )
        assert.ok(done.samples > 2 * sampleRate, label)
        const piece = Math.round(sampleRate * CHUNK_SECONDS)
        if (engine === 'flite') {
          // flite gives the whole sentence in one call: it goes on at once, then the resampler's tail.
          assert.ok(chunks.length <= 2 && chunks[0]! > done.samples - piece, label)
          continue
        }
        // eSpeak calls back every ~90 ms: its first call goes on alone, then whole pieces, then the rest.
        assert.ok(chunks[0]! < piece, label)
        for (const n of chunks.slice(1, -1)) assert.equal(n % piece, 0, label)
        assert.ok(chunks.at(-1)! > 0 && chunks.at(-1)! <= piece, label)
        assert.ok(chunks.length <= 2 + done.samples / piece, label)
      }
    }
  } finally {
    await pool.close()
  }
})
