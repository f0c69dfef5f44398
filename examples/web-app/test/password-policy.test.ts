/** The sign-up password rules: common, repeated, sequential and personal passwords are refused. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { passwordProblem, type PasswordProblem } from '../src/password-policy.ts'

const EMAIL = 'grace.hopper@example.test'

describe('passwordProblem', () => {
  const refused: [string, PasswordProblem][] = [
    ['        ', 'blank'],
    ['\t \t \t \t', 'blank'],
    ['password', 'common'],
    ['PASSWORD', 'common'],
    ['Password1!', 'common'],
    ['P@ssw0rd', 'common'],
    ['p@ssw0rd123', 'common'],
    ['iloveyou!!', 'common'],
    ['Dragon2024!', 'common'],
    ['summer2024', 'common'],
    ['trustno1', 'common'],
    ['zaq12wsx', 'common'],
    // A common one repeated, or with digits and symbols appended (issue 19 item 10).
    ['Passw0rd!Passw0rd!', 'common'],
    ['passwordpassword', 'common'],
    ['PASSWORD-password', 'common'],
    ['dragon dragon dragon', 'common'],
    ['p@ssw0rd p@ssw0rd', 'common'],
    ['monkeymonkey99!', 'common'],
    ['trustno12024', 'common'],
    ['trustno1!!2024', 'common'],
    ['abc123456789', 'common'],
    ['qwerty123qwerty123', 'common'],
    ['aaaaaaaa', 'repetitive'],
    ['abababab', 'repetitive'],
    ['12121212', 'repetitive'],
    ['xyzxyzxyz', 'repetitive'],
    ['12345678', 'sequence'],
    ['87654321', 'sequence'],
    ['abcdefgh', 'sequence'],
    ['QWERTYUIOP', 'sequence'],
    ['1qaz2wsx', 'sequence'],
    ['lkjhgfdsa', 'sequence'],
    [EMAIL, 'personal'],
    ['grace.hopper', 'personal'],
    ['Grace.Hopper99', 'personal'],
    ['hopper1906', 'personal'],
    [`my ${EMAIL}`, 'personal'],
  ]
  for (const [password, problem] of refused) {
    test(`${JSON.stringify(password)} is refused: ${problem}`, () =>
      assert.equal(passwordProblem(password, EMAIL), problem))
  }

  const accepted = [
    'correct horse battery staple',
    'a long enough password',
    'plum tree over the quiet harbour',
    'Tr0ub4dor&3 horse',
    'sunflower-orbit-42',
    'Hopper-grace',
    'gr8 lunch at noon',
    'dragonfly over the pond 42',
    'monkey bread, warm, 2024',
  ]
  for (const password of accepted) {
    test(`${JSON.stringify(password)} is fine`, () => assert.equal(passwordProblem(password, EMAIL), undefined))
  }

  const common = readFileSync(path.join(import.meta.dirname, '..', 'src', 'common-passwords.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  test(`each of the ${common.length} common passwords is refused doubled, and with "2024!" or "!!99" appended`, () => {
    for (const password of common) {
      for (const made of [password + password, `${password} ${password}`, `${password}2024!`, `${password}!!99`])
        assert.notEqual(passwordProblem(made, EMAIL), undefined, JSON.stringify(made))
    }
  })

  test('a short local part (under 4 characters) is not treated as a word of the password', () => {
    assert.equal(passwordProblem('jo is quite happy', 'jo@example.test'), undefined)
  })
})
