import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { CUT_PAUSE_MS, CutSilence, PAUSE_LEVEL } from '../../src/tts/cut-silence.ts'
import { HEAD_WORDS } from '../../src/tts/first-segment.ts'
import { createSpeechService, DEFAULT_VOICE_ID, VOICE_ENTRIES, type SpeechService } from '../../src/tts/index.ts'
import { WorkerPool } from '../../src/tts/pool.ts'
import { collect, concatBytes } from './audio.ts'

const RATE = 16000
const KEEP = (CUT_PAUSE_MS * RATE) / 1000 // 640 samples
const fill = (n: number, value: number) => new Int16Array(n).fill(value)
const cat = (...parts: Int16Array[]) => Int16Array.from(parts.flatMap((p) => [...p]))
/** Pushes `audio` in pieces of `size`, then flushes; returns everything that came out, joined. */
function run(trim: CutSilence, audio: Int16Array, size: number): Int16Array {
  const out: Int16Array[] = []
  for (let at = 0; at < audio.length; at += size) out.push(trim.push(audio.subarray(at, at + size)).slice())
  out.push(trim.flush())
  return cat(...out)
}

test('a leading pause is cut to CUT_PAUSE_MS, across pieces; what follows is passed whole', () => {
  const speech = cat(fill(300, 1000), fill(500, 40), fill(300, -900))
  const trim = new CutSilence({ start: true, end: false }, RATE)
  const out = run(trim, cat(fill(2000, 50), speech, fill(3000, 30)), 256)
  assert.deepEqual(out, cat(fill(KEEP, 50), speech, fill(3000, 30)))
  assert.equal(trim.droppedStart, 2000 - KEEP)
})

test('a trailing pause is held until speech follows it, and cut to CUT_PAUSE_MS at the end', () => {
  const speech = cat(fill(300, 1000), fill(700, 40), fill(300, -900))
  const trim = new CutSilence({ start: false, end: true }, RATE)
  const head = cat(fill(1000, 30), speech)
  // Nothing of the trailing pause leaves before the end: it could still be followed by speech.
  assert.deepEqual(trim.push(head), head)
  assert.deepEqual(trim.push(fill(500, 60)), new Int16Array(0))
  assert.deepEqual(trim.push(fill(500, 60)), new Int16Array(0))
  assert.deepEqual(trim.flush(), fill(KEEP, 60))
  assert.equal(trim.droppedStart, 0)
})

test('both ends trimmed; a pause shorter than CUT_PAUSE_MS is kept whole; no cut passes everything', () => {
  const speech = cat(fill(100, 2000), fill(50, 0), fill(100, -2000))
  const both = new CutSilence({ start: true, end: true }, RATE)
  assert.deepEqual(
    run(both, cat(fill(5000, 10), speech, fill(5000, 10)), 333),
    cat(fill(KEEP, 10), speech, fill(KEEP, 10)),
  )
  const short = new CutSilence({ start: true, end: true }, RATE)
  assert.deepEqual(
    run(short, cat(fill(100, 10), speech, fill(KEEP, 10)), 64),
    cat(fill(100, 10), speech, fill(KEEP, 10)),
  )
  const none = new CutSilence({ start: false, end: false }, RATE)
  const all = cat(fill(5000, 0), speech, fill(5000, 0))
  assert.deepEqual(run(none, all, 1000), all)
})

test(`PAUSE_LEVEL is the edge: ±${PAUSE_LEVEL} is speech, ±${PAUSE_LEVEL - 1} is pause`, () => {
  for (const loud of [PAUSE_LEVEL, -PAUSE_LEVEL]) {
    const trim = new CutSilence({ start: true, end: true }, RATE)
    const out = run(trim, cat(fill(1000, PAUSE_LEVEL - 1), fill(1, loud), fill(1000, 1 - PAUSE_LEVEL)), 100)
    assert.deepEqual(out, cat(fill(KEEP, PAUSE_LEVEL - 1), fill(1, loud), fill(KEEP, 1 - PAUSE_LEVEL)))
  }
  // Audio that is all pause keeps CUT_PAUSE_MS of it.
  assert.deepEqual(run(new CutSilence({ start: true, end: true }, RATE), fill(3000, 1), 700), fill(KEEP, 1))
})

test('a held pause is a copy: an engine that reuses its buffer cannot change it', () => {
  const trim = new CutSilence({ start: false, end: true }, RATE)
  const buffer = fill(400, 1000)
  trim.push(buffer)
  buffer.fill(5) // the next call's pause, in the same buffer
  assert.deepEqual(trim.push(buffer), new Int16Array(0))
  buffer.fill(7)
  assert.deepEqual(trim.flush(), fill(400, 5))
})

// Real engines: the first sentence spoken as a head and its rest.
const LONG = 'Access tokens let a browser speak without ever seeing the API key.'
const ESPEAK = VOICE_ENTRIES.find((e) => e.engine === 'espeak' && e.engineVoice.startsWith('en-us'))?.voice.id ?? ''
let service: SpeechService
before(async () => {
  const pool = new WorkerPool({ workers: 1, warm: false })
  await pool.ready
  service = await createSpeechService({ runner: pool })
})
after(() => service.close())

/** The sentence at 16 kHz, cut (a stream's start) or whole (a later offset), with its words. */
async function speak(voiceId: string, cut: boolean) {
  const offset = cut ? 0 : 1
  const chunks = await collect(service, {
    text: LONG,
    voiceId,
    outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: RATE },
    timestamps: true,
    timeOffsetSeconds: offset,
  })
  const pcm = new Int16Array(concatBytes(chunks).slice().buffer)
  const words = chunks.find((c) => c.words)?.words
  assert.ok(words)
  const at = (k: 'start' | 'end', word: string) => words[k][words.words.indexOf(word)]! - offset
  return { pcm, at }
}

const loud = (x: number) => Math.abs(x) >= PAUSE_LEVEL

/** The longest run of pause from `fromMs` to `toMs` (default: from the first sample of speech to the last), in ms. */
function longestPause(pcm: Int16Array, fromMs?: number, toMs?: number): { ms: number; endsAtMs: number } {
  let first = fromMs === undefined ? pcm.findIndex(loud) : Math.round((fromMs * RATE) / 1000)
  let last = toMs === undefined ? pcm.length - 1 : Math.round((toMs * RATE) / 1000)
  while (toMs === undefined && last > first && !loud(pcm[last]!)) last--
  first = Math.max(0, first)
  last = Math.min(pcm.length - 1, last)
  let run = 0
  let best = { ms: 0, endsAtMs: 0 }
  for (let i = first; i <= last; i++) {
    run = loud(pcm[i]!) ? 0 : run + 1
    if ((run * 1000) / RATE > best.ms) best = { ms: (run * 1000) / RATE, endsAtMs: ((i + 1) * 1000) / RATE }
  }
  return best
}

test("Flite: the cut in a stream's first sentence is heard as a word gap, not the two pauses Flite pads each part with", async () => {
  const cut = await speak(DEFAULT_VOICE_ID, true)
  const whole = await speak(DEFAULT_VOICE_ID, false)
  // The head is "Access tokens let a browser" (5 words). Untrimmed, ~350 ms of pause lay between its
  // last word and the rest's first.
  const words = LONG.split(' ')
  const [last, next] = [words[HEAD_WORDS.flite - 1]!, words[HEAD_WORDS.flite]!]
  // Between the two words' timestamps: the pause kept on each side, and what Flite leaves outside a
  // word (a vowel's decay, a plosive's closure), up to ~50 ms a side.
  const cutMs = [cut.at('end', last) * 1000, cut.at('start', next) * 1000] as const
  assert.ok(
    cutMs[1] - cutMs[0] <= 2 * CUT_PAUSE_MS + 100,
    `"${last}" ends at ${cutMs[0]} ms, "${next}" starts at ${cutMs[1]}`,
  )
  const gap = longestPause(cut.pcm, cutMs[0] - 50, cutMs[1] + 50)
  assert.ok(gap.ms <= 2 * CUT_PAUSE_MS, `the pause at the cut: ${gap.ms} ms`)
  // The words after the cut move back with the trimmed pause: the rest's first starts where its speech does.
  assert.ok(
    Math.abs(cutMs[1] - gap.endsAtMs) <= 20,
    `"${next}" at ${cutMs[1]} ms, speech after the cut at ${gap.endsAtMs} ms`,
  )
  // Nowhere in the sentence is a pause longer than the whole sentence's longest.
  assert.ok(longestPause(cut.pcm).ms <= Math.max(2 * CUT_PAUSE_MS, longestPause(whole.pcm).ms))
  // The cut sentence is no more than a word gap longer than the whole one.
  const ms = (pcm: Int16Array) => (pcm.length * 1000) / RATE
  assert.ok(ms(cut.pcm) - ms(whole.pcm) <= 2 * CUT_PAUSE_MS + 50, `${ms(cut.pcm)} against ${ms(whole.pcm)} ms`)
  // Every word's timing stays within the audio.
  assert.ok(cut.at('end', 'key.') * 1000 <= ms(cut.pcm))
})

test('eSpeak: the cut leaves no pause longer than a word gap either', async () => {
  const cut = await speak(ESPEAK, true)
  assert.ok(longestPause(cut.pcm).ms <= 2 * CUT_PAUSE_MS)
  assert.ok(cut.at('end', 'key.') * 1000 <= (cut.pcm.length * 1000) / RATE)
})
