/**
 * Sonic-3 markup through the real pipeline over the deterministic engine (one 60 ms tone per word):
 * what reaches the engine (a spy on the runner records every SentenceJob), breaks as exact silence,
 * volume as gain, spelling, and phoneme timings.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { countCharacters } from '@voxgate/protocol'
import type { SentenceJob } from '../../src/tts/job.ts'
import type { SentenceRunner } from '../../src/tts/job-stream.ts'
import { applyGain } from '../../src/tts/gain.ts'
import { BREAKS_MAX_MS_PER_REQUEST, planUnits, spellOut } from '../../src/tts/plan.ts'
import { estimatePhonemes, phonemesFromPsdur, PhonemeTracker } from '../../src/tts/phonemes.ts'
import { createSpeechService } from '../../src/tts/service.ts'
import type { SpeechService, SynthesisChunk, SynthesisRequest } from '../../src/tts/types.ts'
import { DETERMINISTIC_WORD_MS } from '../helpers/deterministic-engine.ts'
import { InlineRunner } from '../helpers/inline-runner.ts'

const RATE = 16000
const VOICE = '6543f319-375f-51d6-9847-9ede2c0c7072'

/** A runner that records every job it is given, then runs it as usual. */
function spy(runner: SentenceRunner): { runner: SentenceRunner; jobs: SentenceJob[] } {
  const jobs: SentenceJob[] = []
  return {
    jobs,
    runner: {
      start: (job, signal, options) => {
        jobs.push(job)
        return runner.start(job, signal, options)
      },
      close: () => runner.close(),
    },
  }
}

let speech: SpeechService
let jobs: SentenceJob[]

before(async () => {
  const s = spy(await InlineRunner.create())
  jobs = s.jobs
  speech = await createSpeechService({ runner: s.runner })
})

async function speak(
  text: string,
  extra: Partial<SynthesisRequest> = {},
): Promise<{ pcm: Int16Array; chunks: SynthesisChunk[] }> {
  const chunks: SynthesisChunk[] = []
  for await (const c of speech.synthesize({
    text,
    voiceId: VOICE,
    outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: RATE },
    ...extra,
  }))
    chunks.push(c)
  const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c.audio)))
  return { pcm: new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1), chunks }
}

const seconds = (pcm: Int16Array) => pcm.length / RATE
const rms = (pcm: Int16Array) => Math.sqrt(pcm.reduce((a, v) => a + v * v, 0) / Math.max(1, pcm.length))

describe('markup never reaches the engine as text', () => {
  test('every tag is obeyed or dropped; the engine sees sentences only', async () => {
    jobs.length = 0
    await speak(
      'Hi <break time="100ms"/>there. <speed ratio="1.5"/>Fast <volume ratio="0.5"/>quiet <emotion value="angry"/>angry <b>bold</b> ' +
        '<spell>AB-1</spell> a < b <breakfast/>done.',
    )
    const texts = jobs.map((j) => j.text)
    assert.ok(
      texts.every((t) => !/[<>]/.test(t.replace('a < b', ''))),
      texts.join(' | '),
    )
    assert.deepEqual(texts, ['Hi', 'there.', 'Fast', 'quiet angry bold', 'A, B, 1.', 'a < b done.'])
    assert.deepEqual(
      jobs.map((j) => [j.speed, j.volume ?? 1]),
      [
        [1, 1],
        [1, 1],
        [1.5, 1],
        [1.5, 0.5],
        [1.5, 0.5],
        [1.5, 0.5],
      ],
    )
  })

  test('generation_config speed and volume multiply with the markup', async () => {
    jobs.length = 0
    await speak('One <speed ratio="0.8"/><volume ratio="2"/>two.', { speed: 1.25, volume: 0.5 })
    assert.deepEqual(
      jobs.map((j) => [j.speed, j.volume ?? 1]),
      [
        [1.25, 0.5],
        [1, 1],
      ],
    )
  })
})

describe('audio', () => {
  test('<break time="1s"/> adds exactly 1 s of silence; "ms" works too', async () => {
    const plain = seconds((await speak('Hello world.')).pcm)
    const broken = (await speak('Hello <break time="1s"/>world.')).pcm
    assert.ok(Math.abs(seconds(broken) - plain - 1) < 0.005, `${seconds(broken)} vs ${plain}`)
    const ms = seconds((await speak('Hello <break time="250ms"/>world.')).pcm)
    assert.ok(Math.abs(ms - plain - 0.25) < 0.005)
    // The silence is digital silence where the word gap is.
    const word = Math.round((DETERMINISTIC_WORD_MS / 1000) * RATE)
    assert.ok(broken.subarray(word + 10, word + RATE - 10).every((v) => v === 0))
  })

  test('a break is capped at 10 s per tag and 60 s per request', async () => {
    assert.deepEqual(planUnits('<break time="30s"/>'), [{ kind: 'break', ms: 10_000 }])
    const many = planUnits('x<break time="10s"/>'.repeat(8)).filter((u) => u.kind === 'break')
    assert.equal(
      many.reduce((a, u) => a + (u.kind === 'break' ? u.ms : 0), 0),
      BREAKS_MAX_MS_PER_REQUEST,
    )
  })

  test('<speed ratio="1.5"/> speeds up the following text, until the next speed tag', async () => {
    const plain = seconds((await speak('One two three four.')).pcm)
    const fast = seconds((await speak('<speed ratio="1.5"/>One two three four.')).pcm)
    assert.ok(Math.abs(fast - plain / 1.5) < 0.005, `${fast} vs ${plain}`)
    const back = seconds((await speak('<speed ratio="1.5"/>One two <speed ratio="1"/>three four.')).pcm)
    assert.ok(Math.abs(back - (plain / 2 / 1.5 + plain / 2)) < 0.005, `${back}`)
  })

  test('an emotion tag adds no pause', async () => {
    const plain = seconds((await speak('I will not allow this.')).pcm)
    const emotional = seconds((await speak('I will <emotion value="angry"/>not allow this.')).pcm)
    assert.equal(emotional, plain)
  })

  test('<volume ratio="0.5"/> and generation_config.volume scale RMS by the ratio', async () => {
    const base = rms((await speak('Loud words here.')).pcm)
    const half = rms((await speak('<volume ratio="0.5"/>Loud words here.')).pcm)
    const twice = rms((await speak('Loud words here.', { volume: 2 })).pcm)
    assert.ok(Math.abs(half / base - 0.5) < 0.05, `${half / base}`)
    assert.ok(Math.abs(twice / base - 2) < 0.2, `${twice / base}`)
  })

  test('gain limits instead of wrapping', () => {
    const pcm = applyGain(Int16Array.from([30000, -30000, 1000, 0]), 2)
    assert.ok(pcm[0]! > 26000 && pcm[0]! <= 32767, `${pcm[0]}`)
    assert.ok(pcm[1]! < -26000 && pcm[1]! >= -32767)
    assert.equal(pcm[2], 2000)
  })

  test('<spell>cat</spell> is three letters, clearly longer than "cat"', async () => {
    assert.equal(spellOut('ABC-123'), 'A, B, C, 1, 2, 3.')
    const cat = seconds((await speak('cat')).pcm)
    const spelled = seconds((await speak('<spell>cat</spell>')).pcm)
    assert.ok(spelled >= 2.5 * cat, `${spelled} vs ${cat}`)
  })

  test('only markup: a break alone is silence, a tag alone is nothing', async () => {
    assert.ok(Math.abs(seconds((await speak('<break time="500ms"/>')).pcm) - 0.5) < 0.005)
    assert.equal((await speak('<emotion value="sad"/>')).pcm.length, 0)
  })
})

describe('budgets count the spoken text', () => {
  test('planned sentences are substrings of the spoken text, breaks empty', async () => {
    const text = 'Say <spell>ok</spell> now.<break time="1s"/>Bye.'
    let planned: readonly string[] = []
    await speak(text, {
      progress: {
        planned: (s) => {
          planned = s
        },
        started: () => {},
      },
    })
    assert.deepEqual(planned, ['Say', 'ok', 'now.', '', 'Bye.'])
    assert.equal(countCharacters(text), 'Say ok now.Bye.'.length)
  })
})

describe('phoneme timestamps', () => {
  test('estimated from words for an engine without phonemes: monotonic, inside the audio, covering it', async () => {
    const { pcm, chunks } = await speak('Two sentences here. And more.', { phonemeTimestamps: true })
    const p = chunks.flatMap((c) =>
      c.phonemes ? c.phonemes.phonemes.map((ph, i) => ({ ph, s: c.phonemes!.start[i]!, e: c.phonemes!.end[i]! })) : [],
    )
    assert.equal(p.map((x) => x.ph).join(''), 'twosentenceshereandmore')
    for (let i = 0; i < p.length; i++) {
      assert.ok(p[i]!.s <= p[i]!.e)
      if (i > 0) assert.ok(p[i]!.s >= p[i - 1]!.e - 1e-6)
    }
    assert.ok(p[0]!.s < 0.01 && Math.abs(p.at(-1)!.e - seconds(pcm)) < 0.01)
  })

  test("espeak's phoneme events and flite's -psdur become IPA with ends", () => {
    const t = new PhonemeTracker()
    const out = [...t.mark('h', 10), ...t.mark('ˈoʊ', 60), ...t.mark('', 200), ...t.mark('k', 300), ...t.finish(400)]
    assert.deepEqual(out, [
      { text: 'h', startMs: 10, endMs: 60 },
      { text: 'oʊ', startMs: 60, endMs: 200 },
      { text: 'k', startMs: 300, endMs: 400 },
    ])
    assert.deepEqual(phonemesFromPsdur('pau:0.1 hh:0.2 ow:0.35 pau:0.5 '), [
      { text: 'h', startMs: 100, endMs: 200 },
      { text: 'oʊ', startMs: 200, endMs: 350 },
    ])
    assert.deepEqual(estimatePhonemes([{ text: 'ab!', startMs: 0, endMs: 100 }]), [
      { text: 'a', startMs: 0, endMs: 50 },
      { text: 'b', startMs: 50, endMs: 100 },
    ])
  })
})
