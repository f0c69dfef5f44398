import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AudioPlayer, type AudioContextLike } from '../src/index.ts'

/** Web Audio faked at its edge: records each source's start time and length. */
function fakeContext() {
  const starts: { at: number; seconds: number }[] = []
  const ctx = {
    currentTime: 10,
    state: 'suspended',
    destination: {},
    resumed: 0,
    async resume() {
      this.resumed++
      this.state = 'running'
    },
    createBuffer(_ch: number, length: number, rate: number) {
      const data = new Float32Array(length)
      return { getChannelData: () => data, duration: length / rate }
    },
    createBufferSource() {
      const src = {
        buffer: undefined as undefined | { duration: number },
        connect: () => undefined,
        start: (at = 0) => starts.push({ at, seconds: src.buffer?.duration ?? 0 }),
        stop: () => undefined,
        onended: null,
      }
      return src
    },
  }
  return { ctx, starts }
}

const s16 = (n: number) => ({ audio: new Uint8Array(n * 2), encoding: 'pcm_s16le' as const, sampleRate: 16000 })

test('chunks are scheduled back to back (gapless), starting on the first chunk', () => {
  const { ctx, starts } = fakeContext()
  const player = new AudioPlayer({ context: ctx as AudioContextLike, startDelaySeconds: 0.05 })
  player.enqueue(s16(1600))
  player.enqueue(s16(800))
  player.enqueue({ audio: new Uint8Array(400 * 4), encoding: 'pcm_f32le', sampleRate: 16000 })
  assert.equal(ctx.resumed, 1, 'a suspended context is resumed')
  assert.deepEqual(
    starts.map((s) => Math.round(s.at * 1e6) / 1e6),
    [10.05, 10.15, 10.2],
  )
  assert.equal(player.chunksScheduled, 3)
  assert.equal(player.samplesScheduled, 2800)
  assert.ok(Math.abs(player.bufferedSeconds - 0.225) < 1e-9)
})

test('after an underrun, or stop(), playback restarts a little ahead of now', () => {
  const { ctx, starts } = fakeContext()
  const player = new AudioPlayer({ context: ctx as AudioContextLike, startDelaySeconds: 0.05 })
  player.enqueue(s16(1600))
  ctx.currentTime = 20
  player.enqueue(s16(1600))
  player.stop()
  player.enqueue(s16(1600))
  assert.deepEqual(
    starts.map((s) => s.at),
    [10.05, 20.05, 20.05],
  )
})

test('play() drains a stream into the player', async () => {
  const { ctx } = fakeContext()
  const player = new AudioPlayer({ context: ctx as AudioContextLike })
  async function* stream() {
    yield s16(10)
    yield s16(20)
  }
  await player.play(stream())
  assert.equal(player.samplesScheduled, 30)
})
