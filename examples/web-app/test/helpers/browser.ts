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
