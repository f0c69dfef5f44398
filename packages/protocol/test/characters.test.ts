import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BREAK_MAX_MS,
  countCharacters,
  markupPrefix,
  parseMarkup,
  stripMarkup,
  unfinishedTagStart,
  type MarkupPiece,
} from '../src/characters.ts'

describe('countCharacters: code points, Sonic-3 markup excluded', () => {
  const CASES: [string, number][] = [
    ['', 0],
    ['abc', 3],
    ['👋', 1], // two UTF-16 units
    ['e\u0301', 2], // a combining accent is its own code point
    ['\ud83d', 1], // a lone surrogate still counts once
    ['<break time="1s"/>', 0],
    ['<break time = "500ms" />', 0],
    ['<speed ratio="1.5"/>fast', 4],
    ['<volume ratio="0.5"/><emotion value="angry"/>x', 1],
    ['<emotion value="sad">x</emotion>', 1],
    ['<spell>ABC-123</spell>', 7],
    ['a < b', 5],
    ['5<6 and a<b', 11], // not tag-shaped: text
    ['<b>bold</b>', 4], // tag-shaped but not Cartesia markup: dropped, not spoken, not counted
    ['<break time=1s/>', 0], // unquoted attribute: malformed, dropped
    ['<breakfast/>', 0],
    ['Hi <break time="1', 3], // a tag cut off by the end of the text is dropped
  ]
  for (const [text, n] of CASES) test(JSON.stringify(text), () => assert.equal(countCharacters(text), n))

  test('stripMarkup keeps everything that is not a tag', () => {
    assert.equal(stripMarkup('Say <spell>ok</spell> in <break time="2s"/>two.'), 'Say ok in two.')
  })
})

describe("countCharacters(text, 'known'): a gateway's count, only the tags voxgate knows free", () => {
  const prose = 'p'.repeat(8000)
  const CASES: [string, number][] = [
    ['abc', 3],
    ['👋', 1],
    ['<break time="1s"/>', 0],
    ['<break time = "500ms" />', 0],
    ['<speed ratio="1.5"/>fast', 4],
    ['<speed ratio="0.8">slow</speed>', 4],
    ['<volume ratio="0.5"/><emotion value="angry"/>x', 1],
    ['<emotion value="sad">x</emotion>', 1],
    ['<spell>ABC-123</spell>', 7],
    ['a < b', 5],
    // Tag-shaped text voxgate does not know: every character counts (an upstream may read it aloud).
    ['<b>bold</b>', 11],
    ['<hello world how are you>', 25],
    [`<x y="${prose}"/>`, 8009],
    ['<breakfast/>', 12],
    ['<BREAK time="1s"/>', 18],
    ['<break time=1s/>', 16],
    ['<break time="1s" time="2s"/>', 28],
    ['<break/>', 8],
    ['</break>', 8],
    ['<spell/>', 8],
    ['<speed ratio="fast"/>', 21],
    // A known tag with a value longer than its syntax allows counts whole.
    ['<break time="0000001s"/>', 24],
    ['<speed ratio="1.00000"/>', 24],
    [`<emotion value="${'a'.repeat(33)}"/>`, 52],
    [`<break${' '.repeat(60)}time="1s"/>`, 77],
    ['Hi <break time="1', 17], // a tag cut off by the end of the text is text to an upstream
  ]
  for (const [text, n] of CASES)
    test(JSON.stringify(text.length > 80 ? `${text.slice(0, 40)}…` : text), () =>
      assert.equal(countCharacters(text, 'known'), n),
    )

  test("the default ('any') is the local count, unchanged", () => {
    assert.equal(countCharacters(`<x y="${prose}"/>`), 0)
    assert.equal(countCharacters(`<x y="${prose}"/>`, 'any'), 0)
  })
})

describe('parseMarkup: what Sonic-3 markup asks of the voice', () => {
  const text = (pieces: MarkupPiece[]) => pieces.map((p) => (p.kind === 'text' ? p.text : `[${p.ms}]`)).join('|')

  test('breaks in s and ms, capped at BREAK_MAX_MS; malformed ones are dropped without silence', () => {
    const { pieces } = parseMarkup(
      'a<break time="1s"/>b<break time="250ms"/>c<break time="99s"/>d<break time="x"/>e<break time="1s" x="y"/>f',
    )
    assert.equal(text(pieces), `a|[1000]|b|[250]|c|[${BREAK_MAX_MS}]|def`)
  })

  test('speed and volume hold until the next such tag; paired forms restore on close; ratios are clamped', () => {
    const { pieces } = parseMarkup('a<speed ratio="1.5"/>b<volume ratio="0.5">c</volume>d<speed ratio="9"/>e')
    // 'd' and 'e' share settings (9 is clamped to 1.5), so they are one piece.
    assert.deepEqual(
      pieces.map((p) => (p.kind === 'text' ? [p.text, p.speed, p.volume] : p.ms)),
      [
        ['a', 1, 1],
        ['b', 1.5, 1],
        ['c', 1.5, 0.5],
        ['de', 1.5, 1],
      ],
    )
  })

  test('emotion and unknown tags never split text', () => {
    const { pieces } = parseMarkup(
      'I will <emotion value="angry"/>not <b>allow</b> this<emotion value="sad">!</emotion>',
    )
    assert.deepEqual(pieces, [{ kind: 'text', text: 'I will not allow this!', speed: 1, volume: 1, spell: false }])
  })

  test('spell marks its text', () => {
    const { pieces } = parseMarkup('id <spell>ABC-123</spell>.')
    assert.deepEqual(
      pieces.map((p) => p.kind === 'text' && [p.text, p.spell]),
      [
        ['id ', false],
        ['ABC-123', true],
        ['.', false],
      ],
    )
  })

  test('the state at the end of one piece, written as a prefix, carries into the next', () => {
    const first = parseMarkup('a<speed ratio="1.2"/><volume ratio="0.7">b<spell>c')
    const prefix = markupPrefix(first.state)
    assert.equal(countCharacters(prefix), 0)
    const second = parseMarkup(`${prefix}de</spell>f</volume>g`)
    assert.deepEqual(
      second.pieces.map((p) => p.kind === 'text' && [p.text, p.speed, p.volume, p.spell]),
      [
        ['de', 1.2, 0.7, true],
        ['f', 1.2, 0.7, false],
        ['g', 1.2, 1, false],
      ],
    )
  })

  test('unfinishedTagStart finds a Cartesia tag cut by the end of a streamed piece', () => {
    for (const t of ['Hi <', 'Hi </', 'Hi <br', 'Hi <break time="1', 'Hi </spell', 'Hi <speed ratio="1.'])
      assert.equal(unfinishedTagStart(t), 3, t)
    for (const t of ['Hi', 'a < b', 'Hi <break/> ok', 'x <table', '<bold x']) assert.equal(unfinishedTagStart(t), -1, t)
  })
})
