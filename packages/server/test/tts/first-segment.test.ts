import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_VOICE_ID, VOICE_ENTRIES } from '../../src/tts/index.ts'
import { HEAD_WORDS, planSteps, splitFirstSegment } from '../../src/tts/first-segment.ts'
import { planJobs, synthesize, type PipelineDeps } from '../../src/tts/pipeline.ts'
import { planUnits } from '../../src/tts/plan.ts'
import type { SentenceRunner } from '../../src/tts/job-stream.ts'
import type { SynthesisChunk, SynthesisRequest } from '../../src/tts/types.ts'
import { createVoiceCatalogue } from '../../src/tts/voices.ts'
import { InlineRunner } from '../helpers/inline-runner.ts'

const LONG = 'Access tokens let a browser speak without ever seeing the API key.'

test('a long first sentence is cut after its first clause when that ends within the first words', () => {
  // A clause of one word is too short to go alone.
  assert.deepEqual(splitFirstSegment('Well, the app server mints them after the user signs in.', 5), [
    'Well, the app server mints',
    'them after the user signs in.',
  ])
  assert.deepEqual(splitFirstSegment('When the user signs in, the app server mints a token for the browser.', 5), [
    'When the user signs in,',
    'the app server mints a token for the browser.',
  ])
  assert.deepEqual(splitFirstSegment('It expires soon; the browser refreshes it before it runs out.', 5), [
    'It expires soon;',
    'the browser refreshes it before it runs out.',
  ])
  assert.deepEqual(splitFirstSegment('Tokens are short lived — a leak matters for minutes only.', 5), [
    'Tokens are short lived —',
    'a leak matters for minutes only.',
  ])
})

test("without an early clause the first sentence is cut after its engine's head words: eSpeak 4, Flite 5", () => {
  assert.deepEqual(HEAD_WORDS, { espeak: 4, flite: 5 })
  assert.deepEqual(splitFirstSegment(LONG, 5), [
    'Access tokens let a browser',
    'speak without ever seeing the API key.',
  ])
  assert.deepEqual(splitFirstSegment(LONG, 4), [
    'Access tokens let a',
    'browser speak without ever seeing the API key.',
  ])
  // A comma after the fifth word is too late: the five words go first.
  assert.deepEqual(splitFirstSegment('One two three four five six, seven eight nine.', 5), [
    'One two three four five',
    'six, seven eight nine.',
  ])
  // A comma after the fourth word ends a 4-word head there, and a 5-word head too.
  assert.deepEqual(splitFirstSegment('One two three four, five six seven eight.', 4), [
    'One two three four,',
    'five six seven eight.',
  ])
  assert.deepEqual(splitFirstSegment('One two three four, five six seven eight.', 5), [
    'One two three four,',
    'five six seven eight.',
  ])
})

test('short sentences, short rests and text without spaces stay whole', () => {
  for (const s of [
    'Hello there, how are you?',
    'One two three four five six seven.',
    'Yes, it is.',
    '東京は日本の首都であり、人口が最も多い都市であり、経済の中心地でもあります。',
    '',
  ])
    assert.deepEqual(splitFirstSegment(s, 5), [s])
  // Four words and a rest of two: whole for a 4-word head too.
  assert.deepEqual(splitFirstSegment('One two three four five six.', 4), ['One two three four five six.'])
})

test('only the first sentence is cut, a spelled-out one never, and breaks keep their place', () => {
  const steps = planSteps(planUnits(`${LONG} ${LONG}`), { cutFirst: true, engine: 'flite' })
  assert.deepEqual(
    steps.map((s) => (s.kind === 'speech' ? [s.unit, s.text, s.last] : [s.unit, s.ms])),
    [
      [0, 'Access tokens let a browser', false],
      [0, 'speak without ever seeing the API key.', true],
      [1, LONG, true],
    ],
  )
  const spelled = planSteps(planUnits('<break time="200ms"/><spell>ABCDEFGHIJKLMNOP</spell>'), {
    cutFirst: true,
    engine: 'espeak',
  })
  assert.deepEqual(
    spelled.map((s) => s.kind),
    ['break', 'speech'],
  )
})

async function collect(
  text: string,
  log: string[] = [],
  timeOffsetSeconds = 0,
  voiceId = DEFAULT_VOICE_ID,
): Promise<SynthesisChunk[]> {
  const inner = await InlineRunner.create()
  const runner: SentenceRunner = {
    start(job, signal, options) {
      log.push(`${options?.urgent ? 'urgent' : 'ahead'} ${job.text}`)
      return inner.start(job, signal)
    },
    close: () => inner.close(),
  }
  const deps: PipelineDeps = { runner, entry: createVoiceCatalogue().entry }
  const request: SynthesisRequest = {
    text,
    voiceId,
    outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
    timestamps: true,
    timeOffsetSeconds,
  }
  const out: SynthesisChunk[] = []
  for await (const chunk of synthesize(deps, request)) out.push(chunk)
  return out
}

test('the head goes to the engine first, then its rest, both urgent; later sentences are look-ahead; the words stay one event per sentence', async () => {
  const log: string[] = []
  const chunks = await collect(`${LONG} That is all.`, log)
  assert.deepEqual(log, [
    'urgent Access tokens let a browser',
    'urgent speak without ever seeing the API key.',
    'ahead That is all.',
  ])
  const words = chunks.filter((c) => c.words).map((c) => c.words!)
  assert.equal(words.length, 2)
  assert.deepEqual(words[0]!.words, LONG.split(' '))
  // At the engine's rate, the cut leaves every word's timing where the whole sentence had it.
  assert.deepEqual(
    words[0]!.start,
    LONG.split(' ').map((_, i) => Math.round(i * 0.06 * 1e6) / 1e6),
  )
  // Not one sample more or less: the audio is as long as its words.
  const samples = chunks.reduce((n, c) => n + c.audio.byteLength / 2, 0)
  assert.equal(samples, Math.round((LONG.split(' ').length + 3) * 0.06 * 16000))
})

test('the head is as long as the engine of the voice says: 4 words for an eSpeak voice, 5 for Flite', async () => {
  const espeak = VOICE_ENTRIES.find((e) => e.engine === 'espeak' && e.engineVoice.startsWith('en-us'))
  assert.ok(espeak)
  const log: string[] = []
  await collect(LONG, log, 0, espeak.voice.id)
  assert.deepEqual(log, ['urgent Access tokens let a', 'urgent browser speak without ever seeing the API key.'])
})

test("a WebSocket context's later segment continues its audio: its first sentence stays whole", async () => {
  const log: string[] = []
  await collect(LONG, log, 1.5)
  assert.deepEqual(log, [`urgent ${LONG}`])
})

test('the cut neither adds nor drops audio: the same bytes as the sentence said in one job', async () => {
  const deps: PipelineDeps = { runner: await InlineRunner.create(), entry: createVoiceCatalogue().entry }
  const request: SynthesisRequest = {
    text: LONG,
    voiceId: DEFAULT_VOICE_ID,
    outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  }
  const pcm: Buffer[] = []
  for await (const e of deps.runner.start(planJobs(deps, request, 16000).job(LONG)))
    if (e.type === 'chunk') pcm.push(Buffer.from(e.pcm.buffer, e.pcm.byteOffset, e.pcm.byteLength))
  const cut = Buffer.concat((await collect(LONG)).map((c) => c.audio))
  assert.ok(cut.equals(Buffer.concat(pcm)))
})
