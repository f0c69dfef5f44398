import assert from 'node:assert/strict'
import type { Page, Response } from 'playwright-core'

export { CHROMIUM_ARGS, launchChromium } from '../../../../packages/server/test/helpers/chromium.ts'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Collects every token the app hands to the browser by watching the token route's responses, the
 * way an attacker with devtools would: the `Set-Cookie` header (cookie mode) or the JSON body
 * (memory mode). The tests then prove none of them is anywhere it must not be.
 */
export class TokenWatcher {
  readonly tokens = new Set<string>()
  readonly #pending: Promise<void>[] = []
  mints = 0

  constructor(readonly cookieName: string) {}

  watch(page: Page): void {
    page.on('response', (res) => {
      if (new URL(res.url()).pathname === '/api/voice-token') this.#pending.push(this.#read(res))
    })
  }

  async #read(res: Response): Promise<void> {
    if (res.status() !== 200) return
    this.mints += 1
    const setCookie = (await res.headerValue('set-cookie')) ?? ''
    for (const line of setCookie.split('\n')) {
      const m = new RegExp(`^${this.cookieName}=([^;]+)`).exec(line.trim())
      if (m?.[1]) this.tokens.add(m[1])
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string }
    if (body.token) this.tokens.add(body.token)
  }

  /** Waits for every response seen so far to be read. */
  async settle(): Promise<void> {
    await Promise.all(this.#pending)
  }
}

/** Everything a script on the page can reach: cookies, both storages, and the rendered DOM. */
export async function scriptVisibleState(page: Page): Promise<string> {
  const state = await page.evaluate(() =>
    JSON.stringify({
      cookie: document.cookie,
      local: Object.entries(localStorage),
      session: Object.entries(sessionStorage),
      dom: document.documentElement.outerHTML,
      inputs: [...document.querySelectorAll('input, textarea, select')].map((e) => (e as HTMLInputElement).value),
    }),
  )
  return state + (await page.content())
}

/**
 * Signs up, then in, as a person would: sign-up never signs in, it asks for a sign-in on the same page
 * (no session cookie yet), so the Sign in button follows. Ends on /speak with its voices loaded.
 */
export async function signUpThenIn(
  page: Page,
  url: string,
  email: string,
  password: string,
  whenAskedToSignIn: () => Promise<void> = async () => undefined,
): Promise<void> {
  await page.goto(`${url}/sign-in`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign up' }).click()
  await page
    .getByRole('status')
    .filter({ hasText: /now sign in/i })
    .waitFor()
  assert.equal(new URL(page.url()).pathname, '/sign-in', 'sign-up stays on the sign-in page')
  const cookies = (await page.context().cookies()).map((c) => c.name)
  assert.ok(!cookies.includes('__Host-session'), 'sign-up starts no session')
  await whenAskedToSignIn()
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${url}/speak`)
  await page.getByLabel('Voice').locator('option').first().waitFor({ state: 'attached' })
}

/** One change of the speak page's status line, with what the player held at that moment. */
export interface StatusChange {
  text: string
  atMs: number
  bufferedSeconds: number
}

/** Starts recording every change of `#status` (from now on) into the page. */
export async function recordStatus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: StatusChange[] = []
    const status = document.querySelector('#status')!
    Object.assign(window, { statusLog: log })
    new MutationObserver(() => {
      const text = status.textContent ?? ''
      if (log.at(-1)?.text !== text)
        log.push({ text, atMs: performance.now(), bufferedSeconds: window.voxgateDemo.bufferedSeconds })
    }).observe(status, { childList: true, characterData: true, subtree: true })
  })
}

/** The changes recorded since `recordStatus`. */
export const statusLog = (page: Page): Promise<StatusChange[]> =>
  page.evaluate(() => (window as unknown as { statusLog: StatusChange[] }).statusLog)
