/**
 * The operator console in Chromium (issue 23 item 5), against a real server with real traffic: the
 * one-time link, each page with data, a key created, used, rotated and revoked, a quota bar that moves after a
 * stream, live open streams going up and down with a real WebSocket stream, the Playground speaking
 * with no token in the page, a read session that cannot write, no CSP violation anywhere, and
 * screenshots at 390 and 1440 px in test-artifacts/console/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { createKey } from '../../src/keys/create-key.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { BIN } from '../helpers/cli.ts'
import { bearer, call } from '../helpers/http.ts'
import { firstVoice, raw, ttsBytes } from '../helpers/speech.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../../test-artifacts/console')
const DESKTOP = { width: 1440, height: 900 }
const PHONE = { width: 390, height: 844 }
const NAV = ['Overview', 'Keys', 'Usage', 'Quotas', 'Revocations', 'Audit log', 'Webhooks', 'Playground'] as const

let t: TestServer
let browser: Browser
let admin: BrowserContext
let page: Page
let voice: string
/** Every access token and key secret the server handed out while the pages ran. */
const secrets = new Set<string>()

/** Records CSP violations in the page (before any of its scripts run) and watches what the server hands out. */
async function newContext(viewport = DESKTOP): Promise<BrowserContext> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport })
  await context.addInitScript(() => {
    const seen: string[] = []
    Object.defineProperty(window, 'cspViolations', { value: seen })
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`))
  })
  context.on('response', (res) => {
    const p = new URL(res.url()).pathname
    if ((p === '/access-token' || p === '/api-keys' || p.endsWith('/rotate')) && res.status() < 300)
      void res.json().then(
        (body: { token?: string; key?: string }) => {
          if (body.token) secrets.add(body.token)
          if (body.key) secrets.add(body.key)
        },
        () => undefined,
      )
  })
  return context
}

const violations = (p: Page) => p.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)

async function go(p: Page, name: (typeof NAV)[number]): Promise<void> {
  await p.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click()
  await p.getByRole('heading', { level: 1, name }).waitFor()
}

/** `voxgate console-link` against the server's data folder, as an operator runs it. */
async function consoleLink(): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    BIN,
    'console-link',
    '--data',
    t.dataDir,
    '--public-url',
    t.url,
  ])
  return stdout.trim()
}

/** Speaks `transcript` for `sub` over /tts/bytes with a freshly minted token: real usage in the ledger. */
async function speakAs(sub: string, transcript: string): Promise<void> {
  const token = (await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: { sub, expires_in: 60 } })).json
    .token as string
  const res = await ttsBytes(t.url, token, { model_id: 'sonic-3', voice, transcript, output_format: raw() })
  assert.equal(res.status, 200)
}

before(async () => {
  t = await startTestServer({ console: true })
  voice = await firstVoice(t.url, t.apiKey)
  browser = await launchChromium()
  admin = await newContext()
  page = await admin.newPage()
  mkdirSync(ARTIFACTS, { recursive: true })
})
after(async () => {
  await browser?.close()
  await t?.close()
})

describe('the operator console in Chromium', () => {
  test('the one-time link signs in as admin, leaves the address bar, and cannot be reused', async () => {
    const link = await consoleLink()
    assert.match(link, new RegExp(`^${t.url}/console/login#code=[A-Za-z0-9_-]{43}$`))
    await page.goto(link)
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    assert.equal(new URL(page.url()).pathname, '/console/')
    assert.equal(new URL(page.url()).hash, '')
    const nav = page.getByRole('navigation', { name: 'Console' })
    assert.deepEqual(await nav.getByRole('link').allTextContents(), [...NAV])
    const cookie = (await admin.cookies()).find((c) => c.name === '__Host-voxgate-console')
    assert.ok(cookie)
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.secure, true)
    assert.equal(cookie.sameSite, 'Strict')

    const other = await newContext()
    const again = await other.newPage()
    await again.goto(link)
    const alert = again.getByRole('alert')
    await alert.filter({ hasText: 'invalid_credentials' }).waitFor()
    assert.match((await alert.textContent()) ?? '', /invalid_credentials This sign-in link is not valid/)
    assert.equal((await other.cookies()).length, 0)
    await other.close()
  })

  test('each page loads with data made by real traffic', async () => {
    await speakAs('ada', 'Hello there. This is real traffic for the console.')
    await go(page, 'Usage')
    const usage = page.getByRole('table', { name: /^Usage from / })
    await usage.waitFor()
    assert.match((await usage.textContent()) ?? '', new RegExp(t.apiKeyId))
    await page.getByLabel('Group by').selectOption('sub')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page
      .getByRole('table', { name: /^Usage from / })
      .getByRole('cell', { name: 'ada', exact: true })
      .waitFor()
    await go(page, 'Overview')
    await page.getByRole('heading', { name: 'Today' }).waitFor()
    const today = page.getByRole('region', { name: 'Today' })
    await today.getByText('Characters').waitFor()
    assert.match((await today.textContent()) ?? '', /Characters[1-9]/)
    await page.getByRole('region', { name: 'Health' }).getByText('Yes').waitFor()
    await go(page, 'Keys')
    await page.getByRole('table', { name: 'API keys' }).getByRole('cell', { name: 'test', exact: true }).waitFor()
    await go(page, 'Quotas')
    await page.getByText('No quota: nothing is capped.').waitFor()
    await go(page, 'Revocations')
    await page.getByRole('heading', { name: 'Recent revocations' }).waitFor()
    // The test server's key was made through the CLI's code path: its audit row is there.
    await go(page, 'Audit log')
    await page.getByRole('table', { name: 'Audit log' }).getByText('api_key.created').first().waitFor()
    await go(page, 'Webhooks')
    await page.getByText('No webhook yet.').waitFor()
  })

  test('create → copy → use → rotate → revoke a key; each secret leaves the page with its dialog', async () => {
    await page.goto(`${t.url}/console/keys`)
    await page.getByRole('button', { name: 'Create key' }).click()
    const dialog = page.getByRole('dialog', { name: 'Create key' })
    await dialog.getByLabel('Name').fill('app-backend')
    await dialog.getByLabel(/speech: Speech routes/).uncheck()
    await dialog.getByRole('button', { name: 'Create' }).click()
    const shown = page.getByRole('dialog', { name: 'Key “app-backend” created' })
    const secret = await shown.getByLabel('The new secret').inputValue()
    assert.match(secret, /^sk_vx_/)
    await admin.grantPermissions(['clipboard-read', 'clipboard-write'])
    await shown.getByRole('button', { name: 'Copy' }).click()
    await shown.getByText('Copied').waitFor()
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret)
    await shown.getByRole('button', { name: 'Done' }).click()
    await page.getByRole('cell', { name: 'mint', exact: true }).waitFor()
    assert.equal((await page.content()).includes(secret), false, 'the secret is gone with its dialog')

    const minted = await call(t.url, '/access-token', { headers: bearer(secret), body: { expires_in: 60 } })
    assert.equal(minted.status, 200, minted.text)
    const listed = await call(t.url, '/usage', { headers: bearer(secret) })
    assert.equal(listed.json.error_code, 'insufficient_scope', 'a mint-only key reads nothing')

    // Rotated with no grace: the old secret ends at once, the new one works.
    await page.getByRole('button', { name: 'Rotate app-backend' }).click()
    const rotate = page.getByRole('dialog', { name: 'Rotate key “app-backend”' })
    await rotate.getByLabel('The old secret keeps working').selectOption({ label: 'Not at all: it stops now' })
    await rotate.getByRole('button', { name: 'Rotate app-backend' }).click()
    const renewed = page.getByRole('dialog', { name: 'New secret for “app-backend”' })
    const next = await renewed.getByLabel('The new secret').inputValue()
    assert.match(next, /^sk_vx_/)
    await renewed.getByRole('button', { name: 'Done' }).click()
    await renewed.waitFor({ state: 'detached' })
    assert.equal((await page.content()).includes(next), false, 'the new secret is gone with its dialog')
    const old = await call(t.url, '/access-token', { headers: bearer(secret), body: { expires_in: 60 } })
    assert.deepEqual([old.status, old.json.error_code], [401, 'api_key_expired'])
    const fresh = await call(t.url, '/access-token', { headers: bearer(next), body: { expires_in: 60 } })
    assert.equal(fresh.status, 200, fresh.text)

    await page.getByRole('button', { name: 'Revoke app-backend' }).click()
    const confirm = page.getByRole('dialog', { name: 'Revoke key “app-backend”' })
    await confirm.getByText(/stops working on every instance/).waitFor()
    await confirm.getByRole('button', { name: 'Revoke app-backend' }).click()
    await page.getByRole('button', { name: 'Revoke app-backend' }).waitFor({ state: 'detached' })
    const after = await call(t.url, '/access-token', { headers: bearer(next), body: { expires_in: 60 } })
    assert.equal(after.status, 401)
    assert.equal(after.json.error_code, 'invalid_credentials')
  })

  test('a quota set in the page shows its bar move after a stream', async () => {
    await go(page, 'Quotas')
    await page.getByLabel('End-user (sub)').fill('bob')
    await page.getByLabel('Characters per period').fill('1000')
    await page.getByRole('button', { name: 'Save quota' }).click()
    const bar = page.getByRole('progressbar', { name: 'characters used' })
    await bar.waitFor()
    assert.equal(await bar.getAttribute('value'), '0')
    assert.equal(await bar.getAttribute('max'), '1000')
    const transcript = 'Bob speaks twenty-nine chars.'
    await speakAs('bob', transcript)
    await go(page, 'Overview')
    await go(page, 'Quotas')
    await page.getByText(`${transcript.length} / 1,000 characters`).waitFor()
    assert.equal(
      await page.getByRole('progressbar', { name: 'characters used' }).getAttribute('value'),
      String(transcript.length),
    )
  })

  test("the Overview's open streams go up with a real WebSocket stream, and back down when its user is revoked there", async () => {
    await go(page, 'Overview')
    const figure = page.locator('#open-streams')
    await page.getByText('This instance only (no Redis: other instances are not counted)').waitFor()
    await page.waitForFunction(() => document.querySelector('#open-streams')?.textContent === '0')
    const token = (
      await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: { sub: 'carol', expires_in: 60 } })
    ).json.token as string
    const ws = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${token}` })
    // An open context waiting for the rest of its sentence holds its stream open.
    ws.send({
      model_id: 'sonic-3',
      voice,
      output_format: raw(),
      context_id: 'c1',
      transcript: 'Still talking',
      continue: true,
    })
    await page.waitForFunction(() => document.querySelector('#open-streams')?.textContent === '1')
    await page
      .getByRole('table', { name: 'Open streams by end-user' })
      .getByRole('cell', { name: 'carol', exact: true })
      .waitFor()
    // Revoked from the page while it streams: the socket closes with 4401 and the count drops.
    await page.getByRole('button', { name: 'Revoke carol' }).click()
    await page.getByRole('dialog', { name: 'Revoke “carol”' }).getByRole('button', { name: 'Revoke carol' }).click()
    // A guard against a hang, not a speed requirement: once (a full suite beside a busy core) the socket
    // stayed open and the file waited out its 5 minutes; now it fails saying what the page showed.
    let guard: NodeJS.Timeout | undefined
    const stillOpen = new Promise<never>((_, reject) => {
      guard = setTimeout(async () => {
        const alerts = await page.getByRole('alert').allTextContents()
        reject(
          new Error(`the socket was still open 60 s after the revoke; the page's alerts: ${JSON.stringify(alerts)}`),
        )
      }, 60_000)
    })
    try {
      assert.equal(await Promise.race([ws.closed(), stillOpen]), 4401)
    } finally {
      clearTimeout(guard)
    }
    await page.waitForFunction(() => document.querySelector('#open-streams')?.textContent === '0')
    assert.equal(await figure.textContent(), '0')
  })

  test('the Playground mints through the server and speaks; no token or key secret is in the page', async () => {
    await go(page, 'Playground')
    await page.getByRole('button', { name: 'Mint token' }).click()
    await page.getByLabel('Decoded claims').filter({ hasText: '"sub": "playground"' }).waitFor()
    await page.waitForFunction(() => (document.querySelector<HTMLSelectElement>('#pg-voice')?.options.length ?? 0) > 1)
    await page.getByRole('button', { name: 'Speak' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^Spoke \d+\.\d s of audio\.$/ })
      .waitFor()
    await page
      .locator('#pg-characters-used')
      .filter({ hasText: /^[1-9]\d* \/ 1,000$/ })
      .waitFor()
    const tokens = [...secrets].filter((s) => s.startsWith('eyJ'))
    assert.ok(tokens.length >= 1, 'the page minted')
    const html = await page.content()
    const values = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')].map((i) => i.value),
    )
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    )
    for (const s of secrets) {
      assert.equal(html.includes(s), false, 'a secret in the DOM')
      assert.equal(
        values.some((v) => v.includes(s)),
        false,
        'a secret in a field',
      )
      assert.equal(stored.includes(s), false, 'a secret in storage')
    }
    assert.doesNotMatch(html, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\./)
  })

  test('a read session sees the pages without write buttons, and its writes are 403', async () => {
    const read = await createKey(t.server.ctx.store, 'auditor', Date.now(), { scopes: ['read'] })
    const context = await newContext()
    const p = await context.newPage()
    await p.goto(`${t.url}/console/login`)
    await p.getByLabel('API key (admin or read scope)').fill(read.key)
    await p.getByRole('button', { name: 'Sign in' }).click()
    await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    await p.getByText('Read only').waitFor()
    await go(p, 'Keys')
    await p.getByRole('table', { name: 'API keys' }).waitFor()
    assert.equal(await p.getByRole('button', { name: 'Create key' }).count(), 0)
    assert.equal(await p.getByRole('button', { name: /^Revoke / }).count(), 0)
    await go(p, 'Quotas')
    await p.getByRole('table', { name: 'Quotas' }).waitFor()
    assert.equal(await p.getByRole('button', { name: 'Save quota' }).count(), 0)
    assert.equal(await p.getByRole('button', { name: /^Remove / }).count(), 0)
    await go(p, 'Revocations')
    assert.equal(await p.getByRole('button', { name: 'Revoke' }).count(), 0)
    // No named function inside: the page runs this text as it is (tsx would wrap names in a helper).
    const answers = await p.evaluate(async () => {
      const out: [number, string][] = []
      for (const [method, path, body] of [
        ['POST', '/api-keys', { name: 'nope' }],
        ['PUT', '/quotas', { period: 'day', characters: 1 }],
        ['POST', '/access-token/revoke', { sub: 'ada', issued_before: 1 }],
        ['POST', '/access-token', {}],
      ] as const) {
        const r = await fetch(path, {
          method,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
        out.push([r.status, ((await r.json()) as { error_code: string }).error_code])
      }
      return out
    })
    assert.deepEqual(answers, Array(4).fill([403, 'insufficient_scope']))
    assert.deepEqual(await violations(p), [])
    await p.getByRole('button', { name: 'Sign out' }).click()
    await p.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor()
    const gone = await p.evaluate(() => fetch('/usage').then((r) => r.status))
    assert.equal(gone, 401)
    await context.close()
  })

  test('every page at 1440 and 390 px: no CSP violation, nothing wider than the screen; screenshots saved', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport)
      for (const name of NAV) {
        const slug = name === 'Overview' ? '' : name === 'Audit log' ? 'audit' : name.toLowerCase()
        await page.goto(`${t.url}/console/${slug}`)
        await page.getByRole('heading', { level: 1, name }).waitFor()
        await page.waitForFunction(() => document.querySelectorAll('.loading').length === 0)
        const wide = await page.evaluate(() => document.documentElement.scrollWidth)
        assert.ok(wide <= viewport.width, `${name} at ${viewport.width} px is ${wide} px wide`)
        await page.screenshot({
          path: path.join(ARTIFACTS, `${slug || 'overview'}-${viewport.width}.png`),
          fullPage: true,
        })
        assert.deepEqual(await violations(page), [], `${name}: CSP violations`)
      }
    }
    await page.setViewportSize(DESKTOP)
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.goto(`${t.url}/console/usage`)
    await page.getByRole('table', { name: /^Usage from / }).waitFor()
    await page.screenshot({ path: path.join(ARTIFACTS, 'usage-1440-dark.png'), fullPage: true })
    assert.deepEqual(await violations(page), [])
  })
})
