/**
 * The speak page as a person meets it, in real Chromium: at 390 px nothing is wider than the screen and
 * the email and the sign-out buttons stay whole; the status line says "Speaking…", then "Done" once the
 * audio has finished playing; Stop ends playback. Screenshots at 390 and 1280 px go to test-artifacts/
 * (git-ignored) for a person to look at.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, recordStatus, signUpThenIn, sleep, statusLog } from './helpers/browser.ts'
import { startStack, type Stack } from './helpers/stack.ts'

const ARTIFACTS = path.resolve(import.meta.dirname, '..', '..', '..', 'test-artifacts')
const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1280, height: 800 }
const EMAIL = 'ada.lovelace@example.test'
const PASSWORD = 'correct horse battery staple'
/** 300 words: 18 s of the deterministic engine's audio (60 ms a word), far longer than the test waits. */
const LONG_TEXT = Array.from({ length: 30 }, (_, i) => `Sentence ${i} has a few more words in it.`).join(' ')

let stack: Stack
let browser: Browser
let page: Page
before(async () => {
  stack = await startStack('cookie', 60)
  browser = await launchChromium()
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: PHONE })
  page = await context.newPage()
  mkdirSync(ARTIFACTS, { recursive: true })
  await signUpThenIn(page, stack.app.url, EMAIL, PASSWORD, () =>
    page.screenshot({ path: path.join(ARTIFACTS, 'sign-in-asks-390.png'), fullPage: true }).then(() => undefined),
  )
})
after(async () => {
  await browser?.close()
  await stack?.close()
})

/** What sticks out sideways: the page's scroll width, and every element reaching past the viewport. */
async function overflow(p: Page): Promise<{ viewport: number; scrollWidth: number; outside: string[] }> {
  return p.evaluate(() => {
    const viewport = document.documentElement.clientWidth
    const outside = [...document.querySelectorAll('body *')]
      .filter((e) => {
        const r = e.getBoundingClientRect()
        return r.width > 0 && (r.left < 0 || r.right > viewport)
      })
      .map(
        (e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`,
      )
    return { viewport, scrollWidth: document.scrollingElement!.scrollWidth, outside }
  })
}

async function assertNoOverflow(p: Page, width: number): Promise<void> {
  const o = await overflow(p)
  assert.equal(o.viewport, width)
  assert.ok(o.scrollWidth <= width, `the page scrolls sideways: ${o.scrollWidth} px wide`)
  assert.deepEqual(o.outside, [], 'elements wider than the viewport')
}

/** The lines an element's text is laid out on, and whether any of it is cut off. */
function textLayout(p: Page, selector: string): Promise<{ lines: number; cut: boolean }> {
  return p.evaluate((sel) => {
    const el = document.querySelector<HTMLElement>(sel)!
    const range = document.createRange()
    range.selectNodeContents(el)
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)))
    return { lines: tops.size, cut: el.scrollWidth > el.clientWidth }
  }, selector)
}

const demo = (p: Page) =>
  p.evaluate(() => {
    const d = window.voxgateDemo
    return {
      completed: d.completed,
      stopped: d.stopped,
      chunks: d.chunks,
      seconds: d.seconds,
      buffered: d.bufferedSeconds,
    }
  })

test('at 390 px nothing is wider than the screen and the email and the buttons stay on one line; screenshots at 390 and 1280 px', async () => {
  const signInPage = await page.context().newPage()
  await signInPage.goto(`${stack.app.url}/sign-in`)
  await assertNoOverflow(signInPage, PHONE.width)
  await signInPage.close()
  await assertNoOverflow(page, PHONE.width)
  for (const selector of ['#who', '#sign-out', '#sign-out-everywhere', '#speak', '#stop', '#listen']) {
    const layout = await textLayout(page, selector)
    assert.deepEqual(layout, { lines: 1, cut: false }, `${selector} wraps or is cut off at 390 px`)
  }
  assert.equal(await page.locator('#who').textContent(), EMAIL)
  await page.getByRole('button', { name: 'Speak' }).click()
  await page
    .getByRole('status')
    .filter({ hasText: /^Done$/ })
    .waitFor()
  await page.screenshot({ path: path.join(ARTIFACTS, 'speak-page-390.png'), fullPage: true })
  await page.setViewportSize(DESKTOP)
  await assertNoOverflow(page, DESKTOP.width)
  await page.screenshot({ path: path.join(ARTIFACTS, 'speak-page-1280.png'), fullPage: true })
  await page.setViewportSize(PHONE)
})

test('the status says "Speaking…", then "Done" only once the audio has finished playing; never a chunk count', async () => {
  await page.getByLabel('Text').fill('One short sentence, and then a second one to hear.')
  await recordStatus(page)
  const before = await demo(page)
  await page.getByRole('button', { name: 'Speak' }).click()
  await page.waitForFunction((n) => window.voxgateDemo.completed > n, before.completed)
  const after = await demo(page)
  const log = await statusLog(page)
  assert.deepEqual(
    log.map((c) => c.text),
    ['Speaking…', 'Done'],
  )
  const [speaking, done] = log as [(typeof log)[0], (typeof log)[0]]
  const heardMs = (after.seconds - before.seconds) * 1000
  assert.ok(heardMs > 500, `${heardMs} ms of audio`)
  // Audio cannot finish playing sooner than it lasts: "Done" after the last byte arrived would be early.
  assert.ok(
    done.atMs - speaking.atMs >= heardMs - 20,
    `"Done" ${done.atMs - speaking.atMs} ms after the start of ${heardMs} ms of audio`,
  )
  assert.equal(done.bufferedSeconds, 0, 'nothing left to play at "Done"')
})

test('Stop ends playback: "Stopped", nothing left scheduled, no "Done" later, and Speak works again', async () => {
  await page.getByLabel('Text').fill(LONG_TEXT)
  await recordStatus(page)
  const before = await demo(page)
  await page.getByRole('button', { name: 'Speak' }).click()
  // Mid-playback: more than a second of audio is still waiting to be heard.
  await page.waitForFunction(() => window.voxgateDemo.bufferedSeconds > 1)
  await page.getByRole('button', { name: 'Stop', exact: true }).click()
  await page
    .getByRole('status')
    .filter({ hasText: /^Stopped$/ })
    .waitFor()
  const stopped = await demo(page)
  assert.equal(stopped.buffered, 0, 'nothing is scheduled after Stop')
  assert.equal(stopped.stopped, before.stopped + 1)
  await page.getByRole('button', { name: 'Speak' }).and(page.locator(':enabled')).waitFor()
  assert.equal(await page.getByRole('button', { name: 'Stop', exact: true }).isDisabled(), true)
  // Long enough for a stream that was not really cancelled to deliver more audio, or for a "Done".
  await sleep(1500)
  const later = await demo(page)
  assert.deepEqual([later.chunks, later.buffered, later.completed], [stopped.chunks, 0, before.completed])
  assert.deepEqual(
    (await statusLog(page)).map((c) => c.text),
    ['Speaking…', 'Stopped'],
  )

  await page.getByLabel('Text').fill('Speaking again after a stop.')
  await page.getByRole('button', { name: 'Speak' }).click()
  await page
    .getByRole('status')
    .filter({ hasText: /^Done$/ })
    .waitFor()
})
