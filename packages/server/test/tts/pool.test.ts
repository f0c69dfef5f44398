import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { JobDone, JobEvent, SentenceJob } from '../../src/tts/job.ts'
import { InlineRunner } from '../helpers/inline-runner.ts'
import { CRASH_TEXT, CRASHING_ENGINES } from '../helpers/crashing-engines.ts'
import type { JobStream } from '../../src/tts/job-stream.ts'
import { WorkerPool } from '../../src/tts/pool.ts'

const ended: JobDone[] = []
let pool: WorkerPool
before(async () => {
  pool = new WorkerPool({ workers: 1, warm: false, onJobEnd: (d) => ended.push(d) })
  await pool.ready
})
after(() => pool.close())

async function drain(stream: JobStream): Promise<{ pcm: Int16Array[]; done?: JobDone }> {
  const pcm: Int16Array[] = []
  for await (const e of stream as AsyncIterable<JobEvent>) {
    if (e.type === 'done') return { pcm, done: e }
    pcm.push(e.pcm)
  }
  return { pcm }
}

const job = (text: string, over: Partial<SentenceJob> = {}): SentenceJob => ({
  engine: 'espeak',
  voice: 'en-us',
  text,
  speed: 1,
  sampleRate: 24000,
  ...over,
})

test('a cancel reaches the sentence in progress, and the worker takes the next job', async () => {
  // About ten minutes of audio in one job: the cancel arrives long before espeak could finish it.
  const long = job('This sentence goes on and on, and then it goes on some more. '.repeat(160))
  const stream = pool.start(long)
  const first = await stream.next()
  assert.equal(first.value?.type, 'chunk')
  stream.cancel()
  assert.deepEqual(await stream.next(), { value: undefined, done: true })
  const next = await drain(pool.start(job('Next please.')))
  assert.ok(next.done && !next.done.cancelled && next.pcm.length > 0)
  assert.deepEqual(ended.map((d) => d.cancelled).slice(-2), [true, false])
})

test('a job cancelled while queued never runs', async () => {
  const before = ended.length
  const a = pool.start(job('One.'))
  const b = pool.start(job('Two.'))
  b.cancel()
  await drain(a)
  await drain(pool.start(job('Three.')))
  assert.equal(ended.length - before, 2)
})

describe('a pool of test engines (the engines module is the one swap)', () => {
  let swapped: WorkerPool
  before(async () => {
    swapped = new WorkerPool({ workers: 1, warm: false, engines: CRASHING_ENGINES })
    await swapped.ready
  })
  after(() => swapped.close())

  test('a worker whose engine crashes fails its job with an error and is replaced', async () => {
    const doomed = swapped.start(job(CRASH_TEXT))
    await assert.rejects(drain(doomed), /exited unexpectedly/)
    const after = await drain(swapped.start(job('Still speaking.')))
    assert.ok(after.done && after.pcm.length > 0)
    assert.equal(swapped.size, 1)
  })

  test('the deterministic engine gives the same bytes in a worker and inline', async () => {
    const inline = await InlineRunner.create()
    const det = job('Same bytes everywhere.', { sampleRate: 22050 })
    const a = await drain(swapped.start(det))
    const b = await drain(inline.start(det))
    assert.deepEqual(
      Buffer.concat(a.pcm.map((p) => Buffer.from(p.buffer))),
      Buffer.concat(b.pcm.map((p) => Buffer.from(p.buffer))),
    )
    assert.deepEqual(a.done?.words, b.done?.words)
  })
})

test('an aborted signal fails a queued job at once', async () => {
  const controller = new AbortController()
  const stream = pool.start(job('Never mind.'), controller.signal)
  controller.abort(new Error('stop'))
  await assert.rejects(drain(stream), { message: 'stop' })
  assert.ok((await drain(pool.start(job('Fine.')))).done)
})

test('a closed pool refuses work', async () => {
  const closing = new WorkerPool({ workers: 1, warm: false })
  await closing.ready
  await closing.close()
  await assert.rejects(drain(closing.start(job('Anyone?'))), /closed/)
})

test('a sentence a listener waits for goes ahead of look-ahead sentences', async () => {
  const order: string[] = []
  const track = async (name: string, stream: JobStream) => {
    await drain(stream)
    order.push(name)
  }
  const busy = track('busy', pool.start(job('Keeps the only worker busy for a moment. '.repeat(20))))
  const ahead = track('ahead', pool.start(job('Look-ahead sentence.')))
  const first = track('first', pool.start(job('First sentence of another request.'), undefined, { urgent: true }))
  await Promise.all([busy, ahead, first])
  assert.deepEqual(order, ['busy', 'first', 'ahead'])
})
