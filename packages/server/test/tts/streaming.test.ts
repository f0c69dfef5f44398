import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { test } from 'node:test'
import { DEFAULT_VOICE_ID } from '../../src/tts/index.ts'
import { InlineRunner } from '../helpers/inline-runner.ts'
import type { SentenceRunner } from '../../src/tts/job-stream.ts'
import { synthesize, type PipelineDeps } from '../../src/tts/pipeline.ts'
import type { SynthesisRequest } from '../../src/tts/types.ts'
import { createVoiceCatalogue } from '../../src/tts/voices.ts'

const SENTENCES = ['First one here.', 'Second one here.', 'Third one here.', 'Fourth one here.', 'Fifth one here.']

/** The deterministic runner, recording each sentence it is asked for and each cancel, in order. */
async function recorded(log: string[]): Promise<PipelineDeps> {
  const inner = await InlineRunner.create()
  const runner: SentenceRunner = {
    start(job, signal) {
      log.push(`start ${job.text}`)
      const stream = inner.start(job, signal)
      const cancel = stream.cancel.bind(stream)
      stream.cancel = () => {
        if (!stream.closed) log.push(`cancel ${job.text}`)
        cancel()
      }
      return stream
    },
    close: () => inner.close(),
  }
  return { runner, entry: createVoiceCatalogue().entry }
}

const request: SynthesisRequest = {
  text: SENTENCES.join(' '),
  voiceId: DEFAULT_VOICE_ID,
  outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  timestamps: true,
}

test('sentences are synthesized in order, at least one chunk each, the first audio before the last sentence starts', async () => {
  const log: string[] = []
  for await (const chunk of synthesize(await recorded(log), request)) {
    if (chunk.audio.length > 0) log.push('audio')
    if (chunk.words) log.push(`words ${chunk.words.words.join(' ')}`)
  }
  const starts = log.filter((l) => l.startsWith('start'))
  assert.deepEqual(
    starts,
    SENTENCES.map((s) => `start ${s}`),
  )
  assert.ok(log.indexOf('audio') < log.indexOf(`start ${SENTENCES[4]}`))
  // Words of each sentence follow its audio, in sentence order.
  assert.deepEqual(
    log.filter((l) => l.startsWith('words')),
    SENTENCES.map((s) => `words ${s}`),
  )
  for (let i = 0; i < SENTENCES.length; i++) {
    const between = log.slice(log.indexOf(`start ${SENTENCES[i]}`), log.indexOf(`words ${SENTENCES[i]}`))
    assert.ok(between.includes('audio'))
  }
})

test('a consumer that stops pulling stops synthesis one sentence ahead', async () => {
  const log: string[] = []
  const chunks = synthesize(await recorded(log), request)
  await chunks.next()
  for (let i = 0; i < 20; i++) await tick()
  assert.deepEqual(log, [`start ${SENTENCES[0]}`, `start ${SENTENCES[1]}`])
  await chunks.return(undefined)
  assert.ok(log.includes(`cancel ${SENTENCES[1]}`))
  assert.equal(log.filter((l) => l.startsWith('start')).length, 2)
})

test('aborting the signal rejects the pending pull with its reason and cancels started sentences', async () => {
  const log: string[] = []
  const controller = new AbortController()
  const chunks = synthesize(await recorded(log), request, controller.signal)
  await chunks.next()
  const reason = new Error('client went away')
  controller.abort(reason)
  await assert.rejects(chunks.next(), (err) => err === reason)
  assert.ok(log.includes(`cancel ${SENTENCES[1]}`))
  assert.deepEqual(await chunks.next(), { value: undefined, done: true })
})

test('an already aborted signal yields nothing', async () => {
  const log: string[] = []
  const chunks = synthesize(await recorded(log), request, AbortSignal.abort(new Error('gone')))
  await assert.rejects(chunks.next(), { message: 'gone' })
  assert.deepEqual(log, [])
})
