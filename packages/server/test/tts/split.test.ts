import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_SENTENCE_CHARS, splitSentences, takeCompleteSentences } from '../../src/tts/index.ts'

test('splits sentences and keeps abbreviations and initials inside them', () => {
  assert.deepEqual(splitSentences('Dr. Smith went home. He slept.'), ['Dr. Smith went home.', 'He slept.'])
  assert.deepEqual(splitSentences('We need e.g. apples. Mr. and Mrs. Jones came at 3 p.m. today! Ok?'), [
    'We need e.g. apples.',
    'Mr. and Mrs. Jones came at 3 p.m. today!',
    'Ok?',
  ])
  assert.deepEqual(splitSentences('J. K. Rowling wrote it. Yes.'), ['J. K. Rowling wrote it.', 'Yes.'])
  assert.deepEqual(splitSentences('こんにちは。元気ですか？はい'), ['こんにちは。', '元気ですか？', 'はい'])
})

test('empty and whitespace-only text has no sentences', () => {
  assert.deepEqual(splitSentences(''), [])
  assert.deepEqual(splitSentences('  \n\t '), [])
})

test('a run-on sentence is cut at whitespace, never over the cap', () => {
  const text = 'word '.repeat(300)
  const parts = splitSentences(text)
  assert.ok(parts.length >= 4)
  for (const p of parts) assert.ok(p.length <= MAX_SENTENCE_CHARS && !p.includes('wor d'))
  assert.equal(parts.join(' '), text.trim())
  const noSpaces = 'a'.repeat(1000)
  assert.deepEqual(
    splitSentences(noSpaces).map((p) => p.length),
    [400, 400, 200],
  )
})

test('takeCompleteSentences keeps the unfinished tail and never loses a character', () => {
  const cases: [string, string][] = [
    ['Hello world. How are', 'Hello world. '],
    ['Hello world.', ''],
    ['Hello world. ', 'Hello world. '],
    ['It costs 3.', ''],
    ['Ask Dr. ', ''],
    ['Done! Next? And', 'Done! Next? '],
    ['「終わり。」次', '「終わり。」'],
    ['', ''],
  ]
  for (const [buffer, ready] of cases) {
    const out = takeCompleteSentences(buffer)
    assert.equal(out.ready, ready, buffer)
    assert.equal(out.ready + out.rest, buffer)
  }
  const long = takeCompleteSentences('word '.repeat(200))
  assert.ok(long.rest.length <= MAX_SENTENCE_CHARS && long.ready.length > 0)
  assert.equal(long.ready + long.rest, 'word '.repeat(200))
})
