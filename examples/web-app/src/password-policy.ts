import { readFileSync } from 'node:fs'
import path from 'node:path'

/**
 * What a new password must not be (NIST SP 800-63B §3.1.1.2): a known common password, a repeat or a
 * sequence of characters, or the account's own email. Checked at sign-up only; sign-in never says why.
 * The list ships with the app (`common-passwords.txt`); nothing is fetched at run time.
 */
const COMMON = new Set(
  readFileSync(path.join(import.meta.dirname, 'common-passwords.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#')),
)

/** Runs of keys and characters people walk along, both ways round. */
const SEQUENCES = [
  'abcdefghijklmnopqrstuvwxyz',
  '01234567890',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  'qwertzuiop',
  'azertyuiop',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
].flatMap((s) => [s, [...s].reverse().join('')])

const LEET: Record<string, string> = {
  '@': 'a',
  '4': 'a',
  '3': 'e',
  '1': 'i',
  '!': 'i',
  '0': 'o',
  $: 's',
  '5': 's',
  '7': 't',
}

export type PasswordProblem = 'blank' | 'repetitive' | 'sequence' | 'common' | 'personal'

export const PASSWORD_PROBLEMS: Record<PasswordProblem, string> = {
  blank: 'A password of only spaces is not a password.',
  repetitive: 'That password only repeats a few characters; choose another.',
  sequence: 'That password is a run of keys or characters; choose another.',
  common: 'That password is one of the most common ones; choose another.',
  personal: 'That password is made of your email address; choose another.',
}

/** The word under the decoration: "P@ssw0rd123!" → "password". */
function core(lower: string): string {
  const trimmed = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '')
  return trimmed.replace(/[@4310!$57]/g, (c) => LEET[c] ?? c)
}

const isRepetitive = (p: string): boolean => /^(.{1,4})\1+.?$/su.test(p)
const isSequence = (p: string): boolean => SEQUENCES.some((s) => s.includes(p))

const alnum = (s: string): string => s.replace(/[^\p{L}\p{N}]/gu, '')

/** The email itself, its local part, or one of its words ("grace.hopper" → "grace", "hopper"). */
function isPersonal(lower: string, email: string): boolean {
  const address = email.toLowerCase()
  const local = address.split('@')[0] ?? ''
  const words = [local, ...local.split(/[^\p{L}\p{N}]+/u)].filter((w) => alnum(w).length >= 4)
  const c = core(lower)
  return lower.includes(address) || words.some((w) => c === w || alnum(lower) === alnum(w) || alnum(c) === alnum(w))
}

/**
 * Why `password` may not be used by the account `email`, or undefined when it may. Case-insensitive.
 * @example passwordProblem('Password1!', 'ada@example.com') // 'common'
 */
export function passwordProblem(password: string, email: string): PasswordProblem | undefined {
  if (password.trim() === '') return 'blank'
  const lower = password.toLowerCase()
  if (isRepetitive(lower)) return 'repetitive'
  if (isSequence(lower) || isSequence(lower.replace(/[^\p{L}\p{N}]+$/u, ''))) return 'sequence'
  if (COMMON.has(lower) || COMMON.has(core(lower)) || COMMON.has(lower.replace(/[^\p{L}\p{N}]+$/u, ''))) return 'common'
  if (isPersonal(lower, email)) return 'personal'
  return undefined
}
