/**
 * Sign-in guesses and voice-token mints are throttled (429 + Retry-After), over real HTTPS, on the
 * app's injected clock: it moves only when a test moves it, so every Retry-After is exact.
 */
import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { countingHasher } from './helpers/counting-hasher.ts'
import { startStack, type Stack } from './helpers/stack.ts'

const WINDOW_MS = 15 * 60_000
let clockMs = Date.now()
let s: Stack
const hashing = countingHasher()
before(async () => {
  s = await startStack('memory', 60, { now: () => clockMs, passwordHasher: hashing.hasher })
})
after(() => s.close())
// Every test starts in fresh windows: the defaults are 5 failures per account, 20 per address, and 10
// sign-ups per address, per 15 min.
beforeEach(() => {
  clockMs += WINDOW_MS
})

interface Answer {
  status: number
  retryAfter: string | null
  json: any
  sessionCookie: string | undefined
}

async function post(route: string, body: unknown, cookie?: string): Promise<Answer> {
  const res = await fetch(`${s.app.url}${route}`, {
    method: 'POST',
    headers: { origin: s.app.url, 'content-type': 'application/json', ...(cookie && { cookie }) },
    body: JSON.stringify(body),
  })
  const sessionCookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('__Host-session='))
    ?.split(';')[0]
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: await res.json(), sessionCookie }
}

const PASSWORD = 'plum tree over the quiet harbour'
const signIn = (email: string, password: string) => post('/api/sign-in', { email, password })
const statuses = (answers: Answer[]) => answers.map((a) => a.status)
async function account(email: string): Promise<void> {
  assert.equal((await post('/api/sign-up', { email, password: PASSWORD })).status, 202)
}

describe('sign-in throttle', () => {
  test('5 wrong passwords for one account, then 429 too_many_attempts with Retry-After, even for the right password', async () => {
    await account('ada@example.test')
    for (let i = 0; i < 5; i++) assert.equal((await signIn('ada@example.test', `wrong guess ${i}`)).status, 401)
    clockMs += 60_000
    const locked = await signIn('ada@example.test', PASSWORD)
    assert.equal(locked.status, 429)
    assert.equal(locked.json.error_code, 'too_many_attempts')
    assert.equal(locked.retryAfter, String(15 * 60 - 60))
    assert.equal(locked.sessionCookie, undefined)
    assert.equal(
      (await signIn('ADA@example.test ', PASSWORD)).status,
      429,
      'the same account however the email is typed',
    )
    clockMs += 14 * 60_000 - 1000
    assert.equal((await signIn('ada@example.test', PASSWORD)).retryAfter, '1')
    clockMs += 1000
    const back = await signIn('ada@example.test', PASSWORD)
    assert.equal(back.status, 200)
    assert.ok(back.sessionCookie)
  })

  test('60 wrong guesses at once: 5 are checked, 55 are 429 (counted before the slow hash, not after)', async () => {
    await account('bo@example.test')
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => signIn('bo@example.test', `guess number ${i}`)),
    )
    assert.equal(statuses(answers).filter((x) => x === 401).length, 5)
    assert.equal(statuses(answers).filter((x) => x === 429).length, 55)
    assert.ok(answers.filter((a) => a.status === 429).every((a) => a.retryAfter === '900'))
  })

  test('an unknown email is throttled like a known one (the 429 reveals nothing)', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await signIn('nobody@example.test', `a guess ${i}`)).status, 401)
    const a = await signIn('nobody@example.test', 'a guess 5')
    assert.equal(a.status, 429)
    assert.equal(a.retryAfter, '900')
  })

  test('a successful sign-in does not count: 4 failures, 10 sign-ins, then the 5th failure is still a 401', async () => {
    await account('cy@example.test')
    for (let i = 0; i < 4; i++) assert.equal((await signIn('cy@example.test', `wrong one ${i}`)).status, 401)
    for (let i = 0; i < 10; i++) assert.equal((await signIn('cy@example.test', PASSWORD)).status, 200)
    assert.equal((await signIn('cy@example.test', 'wrong one 4')).status, 401)
    assert.equal((await signIn('cy@example.test', PASSWORD)).status, 429)
  })

  test('20 failures from one address across many accounts, then 429 for every account from it', async () => {
    await account('di@example.test')
    for (let i = 0; i < 20; i++) assert.equal((await signIn(`spray-${i}@example.test`, 'Winter2024!')).status, 401)
    const a = await signIn('di@example.test', PASSWORD)
    assert.equal(a.status, 429)
    assert.equal(a.retryAfter, '900')
    clockMs += WINDOW_MS
    assert.equal((await signIn('di@example.test', PASSWORD)).status, 200)
  })

  test('malformed requests are not guesses: 400s do not count', async () => {
    for (let i = 0; i < 30; i++) assert.equal((await signIn('not-an-email', 'whatever it is')).status, 400)
    await account('ed@example.test')
    assert.equal((await signIn('ed@example.test', PASSWORD)).status, 200)
  })

  test('the throttle logs no email and no password', () => {
    const logs = s.appLogs.join('\n')
    assert.match(logs, /sign-in throttled/)
    assert.ok(!logs.includes('ada@example.test') && !logs.includes(PASSWORD) && !logs.includes('guess number'))
  })
})

describe('sign-up throttle', () => {
  const signUp = (email: string, password = PASSWORD) => post('/api/sign-up', { email, password })

  test('10 sign-ups per address, new and taken emails alike, then 429 too_many_attempts with Retry-After and no hash', async () => {
    const hashesBefore = hashing.calls.hash
    for (let i = 0; i < 5; i++) assert.equal((await signUp(`new-${i}@example.test`)).status, 202)
    for (let i = 0; i < 5; i++) assert.equal((await signUp('new-0@example.test')).status, 202)
    assert.equal(hashing.calls.hash - hashesBefore, 10)
    clockMs += 60_000
    for (const email of ['new-0@example.test', 'never-seen@example.test']) {
      const refused = await signUp(email)
      assert.equal(refused.status, 429, email)
      assert.equal(refused.json.error_code, 'too_many_attempts')
      assert.equal(refused.retryAfter, String(15 * 60 - 60))
      assert.equal(refused.sessionCookie, undefined)
    }
    assert.equal(hashing.calls.hash - hashesBefore, 10, 'a refused sign-up costs no hash')
    assert.equal((await signIn('never-seen@example.test', PASSWORD)).status, 401, 'and makes no account')
    clockMs += 14 * 60_000 - 1000
    assert.equal((await signUp('never-seen@example.test')).retryAfter, '1')
    clockMs += 1000
    assert.equal((await signUp('never-seen@example.test')).status, 202)
    assert.equal((await signIn('never-seen@example.test', PASSWORD)).status, 200)
  })

  test('30 sign-ups at once: 10 are hashed, 20 are 429 (counted before the hash, not after)', async () => {
    const hashesBefore = hashing.calls.hash
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => signUp(`burst-${i}@example.test`)))
    assert.equal(statuses(answers).filter((x) => x === 202).length, 10)
    assert.equal(statuses(answers).filter((x) => x === 429).length, 20)
    assert.ok(answers.filter((a) => a.status === 429).every((a) => a.retryAfter === '900'))
    assert.equal(hashing.calls.hash - hashesBefore, 10)
  })

  test('refused before the hash, so not counted: 30 weak passwords and malformed requests, then a sign-up is 202', async () => {
    for (let i = 0; i < 15; i++)
      assert.equal((await signUp(`weak-${i}@example.test`, 'Passw0rd!Passw0rd!')).status, 400)
    for (let i = 0; i < 15; i++) assert.equal((await signUp('not-an-email')).status, 400)
    assert.equal((await signUp('finally@example.test')).status, 202)
  })

  test('the sign-up throttle logs no email and no password', () => {
    const logs = s.appLogs.join('\n')
    assert.match(logs, /sign-up throttled/)
    assert.ok(!logs.includes('never-seen@example.test') && !logs.includes('burst-') && !logs.includes(PASSWORD))
  })
})

describe('voice-token throttle', () => {
  test('one session asking 100 times at once: 30 tokens, 70 × 429 rate_limited with Retry-After; another session is unaffected', async () => {
    await account('fy@example.test')
    const one = (await signIn('fy@example.test', PASSWORD)).sessionCookie!
    const two = (await signIn('fy@example.test', PASSWORD)).sessionCookie!
    const answers = await Promise.all(Array.from({ length: 100 }, () => post('/api/voice-token', {}, one)))
    assert.equal(statuses(answers).filter((x) => x === 200).length, 30)
    const refused = answers.filter((a) => a.status === 429)
    assert.equal(refused.length, 70)
    assert.ok(refused.every((a) => a.json.error_code === 'rate_limited' && a.retryAfter === '60'))
    assert.equal((await post('/api/voice-token', {}, two)).status, 200)
    clockMs += 60_000
    assert.equal((await post('/api/voice-token', {}, one)).status, 200)
  })

  test("tokenFor: the minted token carries the app's limits (two streams, this origin only)", async () => {
    await account('gu@example.test')
    const cookie = (await signIn('gu@example.test', PASSWORD)).sessionCookie!
    const { json } = await post('/api/voice-token', {}, cookie)
    const claims = JSON.parse(Buffer.from(json.token.split('.')[1], 'base64url').toString())
    assert.deepEqual(claims.limits, { concurrent_streams: 2, origins: [s.app.url] })
  })
})
