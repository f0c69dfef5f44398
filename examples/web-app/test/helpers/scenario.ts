import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { launchChromium, scriptVisibleState, signUpThenIn, sleep, TokenWatcher } from './browser.ts'
import { startStack, TOKEN_COOKIE } from './stack.ts'

const LIFETIME_S = 3
const ARTIFACTS = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'test-artifacts')

interface Demo {
  speaks: number
  completed: number
  failures: number
  chunks: number
  samples: number
}
const demo = (page: Page): Promise<Demo> =>
  page.evaluate(() => {
    const d = window.voxgateDemo
    return { speaks: d.speaks, completed: d.completed, failures: d.failures, chunks: d.chunks, samples: d.samples }
  })

/** Clicks Speak and waits until that speech has either finished or failed. */
async function speak(page: Page, transport: 'bytes' | 'SSE' | 'WebSocket'): Promise<{ before: Demo; after: Demo }> {
  await page.getByLabel('Transport').selectOption({ label: transport })
  const before = await demo(page)
  await page.getByRole('button', { name: 'Speak' }).click()
  await page.waitForFunction(
    (n) => window.voxgateDemo.completed + window.voxgateDemo.failures > n,
    before.completed + before.failures,
  )
  return { before, after: await demo(page) }
}

async function signUpAndIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await signUpThenIn(page, url, email, password)
  // Out and in again, past a refused sign-in this time.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click()
  await page.waitForURL(`${url}/sign-in`)
  await page.getByLabel('Password').fill('not the password')
  await page.getByLabel('Email').fill(email)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await assertAlert(page, /wrong email or password/i)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${url}/speak`)
  await page.getByLabel('Voice').locator('option').first().waitFor({ state: 'attached' })
}

async function assertAlert(page: Page, text: RegExp): Promise<void> {
  const alert = page.getByRole('alert')
  await alert.filter({ hasText: text }).waitFor({ state: 'visible' })
}

/**
 * The whole flow in real Chromium: sign up, sign out, a refused sign-in, sign in, speak over every
 * transport with 3-second tokens across several lifetimes, then sign out in another tab and watch
 * speaking fail cleanly. Every check about where tokens must never be runs at the end.
 */
export async function runScenario(mode: 'cookie' | 'memory', screenshot: string): Promise<void> {
  // 3-second tokens refresh every 2.25 s in each open tab: far more mints than the default 30 a minute.
  const stack = await startStack(mode, LIFETIME_S, { tokenMintLimit: { max: 200, windowSeconds: 60 } })
  const browser = await launchChromium()
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true })
    const page = await context.newPage()
    const watcher = new TokenWatcher(TOKEN_COOKIE)
    watcher.watch(page)
    const email = `ada-${mode}@example.test`
    const password = 'correct horse battery staple'
    await signUpAndIn(page, stack.app.url, email, password)
    await page.getByLabel('Text').fill('Hello from the end to end test. A second sentence follows.')

    // Speak over each transport, waiting past a token lifetime in between: every speech after the
    // first needs a token that did not exist when the previous one ran.
    const plan = ['bytes', 'SSE', 'WebSocket', 'WebSocket', 'bytes', 'SSE'] as const
    for (const [i, transport] of plan.entries()) {
      if (i > 0) await sleep((LIFETIME_S + 0.5) * 1000)
      const { before, after } = await speak(page, transport)
      assert.equal(
        after.failures,
        before.failures,
        `speaking over ${transport} failed: ${await page.getByRole('alert').textContent()}`,
      )
      assert.ok(after.chunks > before.chunks, `no audio reached the player over ${transport}`)
      assert.ok(after.samples > before.samples)
    }
    await page.getByRole('status').filter({ hasText: /Done/ }).waitFor()
    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS, screenshot), fullPage: true })
    await watcher.settle()
    assert.ok(watcher.tokens.size >= plan.length, `only ${watcher.tokens.size} tokens for ${plan.length} speeches`)

    if (mode === 'cookie') {
      const cookie = (await context.cookies()).find((c) => c.name === TOKEN_COOKIE)
      assert.ok(cookie, 'cookie mode keeps the token in a cookie')
      assert.equal(cookie.httpOnly, true)
      assert.equal(cookie.secure, true)
      assert.equal(cookie.sameSite, 'Strict')
      assert.equal(cookie.path, '/')
    } else {
      assert.equal(
        (await context.cookies()).find((c) => c.name === TOKEN_COOKIE),
        undefined,
        'memory mode sets no token cookie',
      )
    }

    // Sign out everywhere in a second tab; the first one, still open, must fail cleanly on every transport.
    const other = await context.newPage()
    watcher.watch(other)
    await other.goto(`${stack.app.url}/speak`)
    await other.getByRole('button', { name: 'Sign out everywhere' }).click()
    await other.waitForURL(`${stack.app.url}/sign-in`)
    for (const transport of ['bytes', 'SSE', 'WebSocket'] as const) {
      const { before, after } = await speak(page, transport)
      assert.equal(after.failures, before.failures + 1, `speaking over ${transport} after sign-out did not fail`)
      assert.equal(after.chunks, before.chunks, `audio played over ${transport} after sign-out`)
      await assertAlert(page, /signed out/i)
    }
    const left = (await context.cookies()).map((c) => c.name)
    assert.ok(!left.includes(TOKEN_COOKIE), `a token cookie remains: ${left.join(', ')}`)
    assert.ok(!left.some((n) => n.includes('session')), 'the session cookie remains')
    await other.goto(`${stack.app.url}/speak`)
    assert.equal(new URL(other.url()).pathname, '/sign-in', 'signed out, /speak sends you to sign in')

    // Where a token must never be: anything a script can read, and the logs of both servers.
    await watcher.settle()
    for (const p of [page, other]) {
      const visible = await scriptVisibleState(p)
      for (const token of watcher.tokens)
        assert.ok(!visible.includes(token), 'a token is visible to scripts or in the DOM')
      assert.ok(!visible.includes(stack.voice.apiKey), 'the API key reached the browser')
    }
    const logs = `${stack.voice.logs.text()}\n${stack.appLogs.join('\n')}`
    assert.match(logs, /voice token minted/)
    for (const token of watcher.tokens) {
      assert.ok(!logs.includes(token), 'a token is in the logs')
      // Not even a fragment: the signature alone identifies a token.
      assert.ok(!logs.includes(token.split('.')[2] ?? token), 'a token signature is in the logs')
    }
    assert.ok(!logs.includes(stack.voice.apiKey), 'the API key is in the logs')
    assert.ok(!logs.includes(password), 'a password is in the logs')
  } finally {
    await browser.close()
    await stack.close()
  }
}
