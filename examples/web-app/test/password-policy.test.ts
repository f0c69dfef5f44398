/** The sign-up password rules: common, repeated, sequential and personal passwords are refused. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
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
  ]
  for (const password of accepted) {
    test(`${JSON.stringify(password)} is fine`, () => assert.equal(passwordProblem(password, EMAIL), undefined))
  }

  test('a short local part (under 4 characters) is not treated as a word of the password', () => {
    assert.equal(passwordProblem('jo is quite happy', 'jo@example.test'), undefined)
  })
})
