/**
 * The console's admin pages in Chromium, against a real server with real speech (Flite and
 * PocketSphinx): rotating a key with a grace from the Keys page; a webhook added, its test event
 * delivered to a local receiver and shown, and removed; a revocation with its reason, shown in the
 * recent list and the audit log as the console's; the Playground transcribing back what it spoke, and
 * listening to a microphone (Chromium's fake device playing a Flite recording); Usage's CSV with
 * formula-like cells defused. Errors show their error_code; the pages work from the keyboard and name
 * every control; the lists of actions and events are the server's own. Screenshots at 1440 and 390 px
 * in test-artifacts/console/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { ConsoleSessions } from '../../src/auth/console-sessions.ts'
import { createKey } from '../../src/keys/create-key.ts'
import { AUDIT_ACTIONS } from '../../src/store/audit-types.ts'
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/events.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { bearer, call } from '../helpers/http.ts'
import { raw, ttsBytes } from '../helpers/speech.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { WebhookReceiver } from '../helpers/webhook-receiver.ts'
import { concatPcm, FLITE_VOICES, silence, speak, wav, wer } from '../stt/helpers.ts'

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../../test-artifacts/console')
const DESKTOP = { width: 1440, height: 900 }
const PHONE = { width: 390, height: 844 }
const SENTENCE = 'The quick brown fox jumps over the lazy dog.'

let t: TestServer
let browser: Browser
let context: BrowserContext
let page: Page
let receiver: WebhookReceiver
let micBrowser: Browser | undefined
let micDir: string | undefined

before(async () => {
  t = await startTestServer({ console: true, speech: 'real', webhookAllowPrivate: true })
  receiver = await WebhookReceiver.start()
  browser = await launchChromium()
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: DESKTOP })
  await context.addInitScript(() => {
    const seen: string[] = []
    Object.defineProperty(window, 'cspViolations', { value: seen })
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`))
  })
  page = await context.newPage()
  mkdirSync(ARTIFACTS, { recursive: true })
  // A one-time link's session: its changes are the console's, with no key (issue 23 item 2).
  const code = await ConsoleSessions.createLoginCode(t.server.ctx.store, Date.now())
  await page.goto(`${t.url}/console/login#code=${code}`)
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
})
after(async () => {
  await browser?.close()
  await micBrowser?.close()
  if (micDir) rmSync(micDir, { recursive: true, force: true })
  await receiver?.stop()
  await t?.close()
})

const violations = () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)

async function go(name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click()
  await page.getByRole('heading', { level: 1, name }).waitFor()
}

/** The page as it is now, at 1440 and at 390 px (nothing wider than the screen), then back to 1440. */
async function shoot(name: string): Promise<void> {
  for (const viewport of [DESKTOP, PHONE]) {
    await page.setViewportSize(viewport)
    const wide = await page.evaluate(() => document.documentElement.scrollWidth)
    assert.ok(wide <= viewport.width, `${name} at ${viewport.width} px is ${wide} px wide`)
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${viewport.width}.png`), fullPage: true })
  }
  await page.setViewportSize(DESKTOP)
  assert.deepEqual(await violations(), [], `${name}: CSP violations`)
}

/** Controls of the page (dialogs included) that have no accessible name, described for the failure. */
const unnamedControls = () =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], output')]
      .filter((el) => !el.closest('[hidden]') && (el as HTMLInputElement).type !== 'hidden')
      .filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length
        const by = el.getAttribute('aria-labelledby')
        return !(
          labelled ||
          el.getAttribute('aria-label') ||
          (by && document.getElementById(by)?.textContent?.trim()) ||
          (el.tagName !== 'INPUT' && el.tagName !== 'SELECT' && el.textContent?.trim())
        )
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  )

/** Presses Tab until `name` (a link or button) has the focus; fails after `max` presses. */
async function tabTo(role: 'link' | 'button', name: string, max = 60): Promise<void> {
  const target = page.getByRole(role, { name, exact: true })
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return
  }
  assert.fail(`${role} "${name}" was not reached with Tab in ${max} presses`)
}

async function auditRows(query: string): Promise<any[]> {
  const res = await call(t.url, `/audit?${query}`, { headers: bearer(t.apiKey) })
  assert.equal(res.status, 200, res.text)
  return res.json.data
}

describe('the console admin pages in Chromium', () => {
  test('keyboard: the navigation and a row action by Tab and Enter; Escape closes the dialog', async () => {
    await createKey(t.server.ctx.store, 'app', Date.now(), { scopes: ['mint'] })
    await page.goto(`${t.url}/console/`)
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    await tabTo('link', 'Keys')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor()
    await page.getByRole('table', { name: 'API keys' }).getByRole('cell', { name: 'app', exact: true }).waitFor()
    await tabTo('button', 'Rotate app')
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'Rotate key “app”' })
    await dialog.waitFor()
    // The dialog takes the focus to its first control: the grace.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rotate-grace')
    assert.deepEqual(await unnamedControls(), [])
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    for (const name of ['Keys', 'Revocations', 'Audit log', 'Webhooks', 'Playground']) {
      await go(name)
      await page.waitForFunction(() => document.querySelectorAll('.loading').length === 0)
      assert.deepEqual(await unnamedControls(), [], `${name}: controls without a name`)
    }
  })

  test('rotate a key from the Keys page with a grace: both secrets work, the new one leaves with its dialog', async () => {
    const app = await createKey(t.server.ctx.store, 'backend', Date.now(), { scopes: ['mint'] })
    await go('Keys')
    await page.getByRole('button', { name: 'Rotate backend' }).click()
    const dialog = page.getByRole('dialog', { name: 'Rotate key “backend”' })
    await dialog.getByLabel('The old secret keeps working').selectOption({ label: 'For 1 hour' })
    await dialog.getByRole('button', { name: 'Rotate backend' }).click()
    const shown = page.getByRole('dialog', { name: 'New secret for “backend”' })
    const secret = await shown.getByLabel('The new secret').inputValue()
    assert.match(secret, /^sk_vx_[A-Za-z0-9_-]{43}$/)
    const until = page.getByRole('row').filter({ hasText: 'backend' }).locator('td[data-label="Rotating until"]')
    await until.filter({ hasText: / UTC$/ }).waitFor()
    await shown.getByRole('button', { name: 'Done' }).click()
    await shown.waitFor({ state: 'detached' })
    // After the dialog: no secret in the review screenshots.
    await shoot('keys-rotated')
    assert.equal((await page.content()).includes(secret), false, 'the secret is gone with its dialog')
    for (const key of [app.key, secret]) {
      const minted = await call(t.url, '/access-token', { headers: bearer(key), body: { expires_in: 60 } })
      assert.equal(minted.status, 200, minted.text)
    }
    const [rotated] = await auditRows(`action=api_key.rotated&target_id=${app.id}`)
    assert.deepEqual(rotated.actor, { type: 'console' })
    assert.equal(rotated.details.grace_seconds, 3600)

    // A key revoked meanwhile (elsewhere): the dialog shows the API's error_code and message.
    await page.getByRole('button', { name: 'Rotate backend' }).click()
    assert.equal(
      (await call(t.url, `/api-keys/${app.id}`, { method: 'DELETE', headers: bearer(t.apiKey) })).status,
      204,
    )
    const again = page.getByRole('dialog', { name: 'Rotate key “backend”' })
    await again.getByRole('button', { name: 'Rotate backend' }).click()
    const alert = again.getByRole('alert')
    await alert.waitFor()
    assert.match((await alert.textContent()) ?? '', /^not_found /)
    await again.getByRole('button', { name: 'Cancel' }).click()
  })

  test('webhooks: a refused URL shows webhook_url_not_allowed; add, send test (delivered, shown), remove', async () => {
    await go('Webhooks')
    await page.getByText('No webhook yet.').waitFor()
    await page.getByRole('button', { name: 'Add webhook' }).click()
    const add = page.getByRole('dialog', { name: 'Add webhook' })
    const boxes = add.getByRole('group', { name: 'Events' }).getByRole('checkbox')
    assert.deepEqual(
      await boxes.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)),
      [...WEBHOOK_EVENT_TYPES],
      "the dialog's events are the server's",
    )
    await add.getByLabel('URL').fill('http://169.254.169.254/latest/meta-data')
    await add.getByRole('button', { name: 'Add' }).click()
    const refused = add.getByRole('alert')
    await refused.waitFor()
    assert.match((await refused.textContent()) ?? '', /^webhook_url_not_allowed /)

    const url = receiver.url('/console-hook')
    await add.getByLabel('URL').fill(url)
    await add.getByLabel('api_key.rotated').check()
    await add.getByRole('button', { name: 'Add' }).click()
    const added = page.getByRole('dialog', { name: 'Webhook added' })
    assert.match(await added.getByLabel('Signing secret').inputValue(), /^whsec_[A-Za-z0-9+/=]+$/)
    await added.getByRole('button', { name: 'Done' }).click()
    const card = page.getByRole('article').filter({ hasText: url })
    await card.getByText('Events: quota.threshold, api_key.rotated').waitFor()

    await card.getByRole('button', { name: `Send test to ${url}` }).click()
    await page.getByRole('status').filter({ hasText: 'Test event delivered (200).' }).waitFor()
    const deliveries = card.getByRole('table', { name: 'Recent deliveries' })
    const delivered = deliveries.getByRole('row').filter({ hasText: 'webhook.test' })
    await delivered.getByRole('cell', { name: '200', exact: true }).waitFor()
    assert.deepEqual(
      receiver.received.map((r) => r.json.type),
      ['webhook.test'],
    )
    await shoot('webhooks-delivered')

    await card.getByRole('button', { name: `Remove ${url}` }).click()
    const confirm = page.getByRole('dialog', { name: 'Remove webhook' })
    await confirm.getByText(`Stop sending events to ${url}?`).waitFor()
    await confirm.getByRole('button', { name: 'Remove webhook' }).click()
    await page.getByText('No webhook yet.').waitFor()
    const [removed] = await auditRows('action=webhook.removed')
    assert.deepEqual(removed.actor, { type: 'console' })
  })

  test('revocations: a sub revoked with a reason; the recent list and the audit log show it, by the console', async () => {
    await go('Revocations')
    await page.getByLabel('What').selectOption('sub')
    await page.getByLabel('Sub or token id').fill('erin')
    await page.getByLabel('Reason (optional)').fill('abuse report 7')
    assert.equal(await page.getByLabel('Reason (optional)').getAttribute('maxlength'), '500')
    await page.getByRole('button', { name: 'Revoke', exact: true }).click()
    const confirm = page.getByRole('dialog', { name: 'Revoke' })
    await confirm.getByText('Revoke every token of “erin” issued until now? This cannot be undone.').waitFor()
    await confirm.getByRole('button', { name: 'Revoke' }).click()
    await page.getByRole('status').filter({ hasText: 'Revoked every token of “erin” issued until now.' }).waitFor()
    const recent = page.getByRole('table', { name: 'The last 30, newest first' })
    const row = recent.getByRole('row').filter({ hasText: 'erin' })
    await row.getByRole('cell', { name: 'abuse report 7', exact: true }).waitFor()
    await row.getByRole('cell', { name: 'console (link)', exact: true }).waitFor()
    assert.equal(await page.getByLabel('Reason (optional)').inputValue(), '')
    await shoot('revocations-reason')
    const [audited] = await auditRows('action=subject.revoked&target_id=erin')
    assert.deepEqual([audited.actor, audited.details.reason], [{ type: 'console' }, 'abuse report 7'])

    await go('Audit log')
    const actions = await page
      .getByLabel('Action')
      .locator('option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))
    assert.deepEqual(actions, ['', ...AUDIT_ACTIONS], "the filter's actions are the server's")
    await page.getByLabel('Action').selectOption('console.signed_in')
    await page.getByRole('button', { name: 'Filter' }).click()
    const log = page.getByRole('table', { name: 'Audit log' })
    await log.getByRole('cell', { name: 'console.signed_in' }).first().waitFor()
    await log.getByRole('cell', { name: 'console (link)', exact: true }).first().waitFor()
    await log.getByRole('cell', { name: 'scope: admin; method: link', exact: true }).first().waitFor()
    await shoot('audit-console')
  })

  test('the Playground listens: what it spoke, transcribed back over /stt/websocket with the same token', async () => {
    await go('Playground')
    const listen = page.getByRole('button', { name: 'Listen', exact: true })
    await page.getByRole('button', { name: 'Mint token' }).click()
    await page.getByLabel('Decoded claims').filter({ hasText: '"sub": "playground"' }).waitFor()
    assert.equal(await listen.isDisabled(), true, 'no stt grant, no Listen')
    await page.getByText('The token has no stt grant').waitFor()

    await page.getByLabel('stt: listen').check()
    await page.getByRole('button', { name: 'Mint token' }).click()
    await page.getByLabel('Decoded claims').filter({ hasText: '"stt": true' }).waitFor()
    await page.waitForFunction(() => (document.querySelector<HTMLSelectElement>('#pg-voice')?.options.length ?? 0) > 1)
    await page.getByLabel('Voice', { exact: true }).selectOption(FLITE_VOICES.get('slt')!)
    await page.getByLabel('Text', { exact: true }).fill(SENTENCE)
    await page.getByRole('button', { name: 'Speak' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^Spoke \d+\.\d s of audio\.$/ })
      .waitFor()
    await listen.click()
    await page
      .locator('#pg-listen-status')
      .filter({ hasText: /^Done listening/ })
      .waitFor({ timeout: 120_000 })
    const heard = (await page.getByLabel('Transcript').textContent()) ?? ''
    assert.ok(wer(SENTENCE, heard).errors <= 2, `heard "${heard}"`)
    assert.equal(await page.locator('#pg-listen-status').textContent(), 'Done listening.')
    // The token's usage shows the audio it was heard with (3 s of speech and 1 s of silence).
    await page
      .locator('#pg-audio-heard')
      .filter({ hasText: /^[1-9][\d.]* s$/ })
      .waitFor()
    await shoot('playground-listen')
  })

  test('the Playground listens to the microphone (a fake device playing a recording) until Stop listening', async () => {
    micDir = mkdtempSync(path.join(tmpdir(), 'voxgate-console-mic-'))
    const mic = path.join(micDir, 'mic.wav')
    const pcm = await speak(t.server.ctx.speech, FLITE_VOICES.get('slt')!, SENTENCE, 48000)
    writeFileSync(mic, wav(concatPcm([silence(1, 48000), pcm, silence(1.5, 48000)]), 48000))
    micBrowser = await launchChromium([
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${mic}`,
    ])
    const micContext = await micBrowser.newContext({
      ignoreHTTPSErrors: true,
      viewport: DESKTOP,
      permissions: ['microphone'],
    })
    await micContext.addInitScript(() => {
      const seen: string[] = []
      Object.defineProperty(window, 'cspViolations', { value: seen })
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`))
    })
    const p = await micContext.newPage()
    const code = await ConsoleSessions.createLoginCode(t.server.ctx.store, Date.now())
    await p.goto(`${t.url}/console/login#code=${code}`)
    await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    await p.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Playground', exact: true }).click()
    await p.getByLabel('stt: listen').check()
    await p.getByRole('button', { name: 'Mint token' }).click()
    await p.getByLabel('Decoded claims').filter({ hasText: '"stt": true' }).waitFor()
    await p.getByLabel('Source').selectOption({ label: 'The microphone' })
    await p.getByRole('button', { name: 'Listen', exact: true }).click()
    await p.locator('#pg-listen-status').filter({ hasText: 'Listening…' }).waitFor()
    // The device plays the recording in a loop: once most of the sentence is heard, the operator stops.
    await p.waitForFunction(
      () => (document.querySelector('#pg-heard')?.textContent ?? '').split(' ').length >= 8,
      null,
      {
        timeout: 120_000,
      },
    )
    await p.getByRole('button', { name: 'Stop listening' }).click()
    await p
      .locator('#pg-listen-status')
      .filter({ hasText: /^Done listening/ })
      .waitFor()
    const heard = (await p.getByLabel('Transcript').textContent()) ?? ''
    assert.ok(wer(SENTENCE, heard.split(' ').slice(0, 9).join(' ')).errors <= 3, `heard "${heard}"`)
    assert.equal(await p.getByRole('button', { name: 'Stop listening' }).isHidden(), true)
    assert.deepEqual(
      await p.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
      [],
      'the microphone needs no blob: script (ScriptProcessor capture)',
    )
    await micContext.close()
  })

  test("Usage's Download CSV: the ledger's rows, a formula-like sub defused", async () => {
    const sub = '=HYPERLINK("x")'
    const minted = await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: { sub, expires_in: 60 } })
    const spoken = await ttsBytes(t.url, minted.json.token as string, {
      model_id: 'sonic-3',
      voice: FLITE_VOICES.get('slt')!,
      transcript: 'Hello.',
      output_format: raw(),
    })
    assert.equal(spoken.status, 200)
    await go('Usage')
    await page.getByLabel('Group by').selectOption('sub')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page
      .getByRole('table', { name: /^Usage from / })
      .getByRole('cell', { name: 'playground', exact: true })
      .waitFor()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ])
    assert.match(download.suggestedFilename(), /^voxgate-usage-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/)
    const lines = readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\n')
    assert.equal(lines[0], 'day,key_id,sub,characters,audio_seconds_produced,audio_seconds_transcribed,streams')
    const today = new Date().toISOString().slice(0, 10)
    const row = (sub: string) => lines.find((l) => l.startsWith(`${today},,${sub},`))?.split(',')
    // The Playground's sentence (44 characters), and the 6 of "Hello." under a sub a spreadsheet would run.
    assert.equal(row('playground')?.[3], '44', lines.join('\n'))
    assert.equal(row('"\'=HYPERLINK(""x"")"')?.[3], '6', lines.join('\n'))
    assert.deepEqual(await violations(), [])
  })
})
