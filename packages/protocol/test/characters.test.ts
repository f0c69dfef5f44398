import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { countCharacters, stripMarkup } from '../src/characters.ts'

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
    ['<b>bold</b>', 11], // not Cartesia markup: text
    ['<break time=1s/>', 16], // unquoted attribute: not well-formed, so text
    ['<breakfast/>', 12],
  ]
  for (const [text, n] of CASES) test(JSON.stringify(text), () => assert.equal(countCharacters(text), n))

  test('stripMarkup keeps everything that is not a tag', () => {
    assert.equal(stripMarkup('Say <spell>ok</spell> in <break time="2s"/>two.'), 'Say ok in two.')
  })
})
