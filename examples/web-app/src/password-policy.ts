import { readFileSync } from 'node:fs'
import path from 'node:path'

/**
 * What a new password must not be (NIST SP 800-63B §3.1.1.2): a known common password (also decorated,
 * or repeated), a repeat or a sequence of characters, or the account's own email. Checked at sign-up
 * only; sign-in never says why.
 * The list ships with the app (`common-passwords.txt`); nothing is fetched at run time.
 */
const COMMON = new Set(
  readFileSync(path.join(import.meta.dirname, 'common-passwords.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#')),
)

const LONGEST_COMMON = Math.max(...[...COMMON].map((p) => p.length))

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
  common: 'That password is one of the most common ones, or made of one; choose another.',
  personal: 'That password is made of your email address; choose another.',
}

const isLetter = (char: string): boolean => /\p{L}/u.test(char)

/** The word under the decoration: "P@ssw0rd123!" → "password". */
function core(lower: string): string {
  // Trimmed by a scan: a regex anchored at the end goes quadratic on long runs of digits mid-password.
  const chars = Array.from(lower)
  let start = 0
  let end = chars.length
  while (start < end && !isLetter(chars[start]!)) start++
  while (end > start && !isLetter(chars[end - 1]!)) end--
  return chars
    .slice(start, end)
    .join('')
    .replace(/[@4310!$57]/g, (c) => LEET[c] ?? c)
}

/**
 * The password and each of its beginnings followed only by digits and symbols, the decoration people
 * append: "trustno12024!" → "trustno12024!", "trustno12024", …, "trustno1", …
 */
function withoutEndings(lower: string): string[] {
  const chars = Array.from(lower)
  const out = [lower]
  for (let end = chars.length - 1; end > 0 && !isLetter(chars[end]!); end--) out.push(chars.slice(0, end).join(''))
  return out
}

/**
 * A common password, or one under leetspeak and digits or symbols around it: "P@ssw0rd1!", "trustno12024".
 * Every shortened ending has the same core (the ending is all non-letters), so one core is enough.
 */
const isDecoratedCommon = (lower: string): boolean =>
  COMMON.has(core(lower)) || withoutEndings(lower).some((p) => p.length <= LONGEST_COMMON && COMMON.has(p))

/** The unit `p` is copies of, back to back ("passw0rd!passw0rd!") or apart ("dragon dragon"), if any. */
function repeatedUnits(p: string): string[] {
  const chars = Array.from(p)
  const units: string[] = []
  for (let len = 1; len <= chars.length / 2; len++) {
    if (chars.length % len !== 0) continue
    const unit = chars.slice(0, len).join('')
    if (unit.repeat(chars.length / len) === p) units.push(unit)
  }
  for (const separator of [/[^\p{L}\p{N}]+/u, /\s+/u]) {
    const words = p.split(separator).filter((w) => w !== '')
    if (words.length > 1 && words.every((w) => w === words[0])) units.push(words[0]!)
  }
  return units
}

/** A common password repeated, then perhaps decorated: "Passw0rd!Passw0rd!", "monkeymonkey99". */
const isRepeatedCommon = (lower: string): boolean =>
  withoutEndings(lower).some((p) => repeatedUnits(p).some(isDecoratedCommon))

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
  if (isDecoratedCommon(lower) || isRepeatedCommon(lower)) return 'common'
  if (isPersonal(lower, email)) return 'personal'
  return undefined
}
