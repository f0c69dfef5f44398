/**
 * The Listen button in real Chromium with a fake microphone: Chromium plays a WAV (voxgate's Flite
 * voice, 48 kHz mono, made here through the speech service) as the microphone, the page streams it
 * through the SDK's AudioWorklet capture to voxgate's real PocketSphinx, and shows the words.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { createSpeechService } from '../../../packages/server/src/tts/index.ts'
import { concatPcm, FLITE_VOICES, silence, speak, wav, wer } from '../../../packages/server/test/stt/helpers.ts'
import { launchChromium, recordStatus, signUpThenIn, statusLog } from './helpers/browser.ts'
import { requireChromium } from '../../../packages/server/test/helpers/chromium.ts'
import { needed } from '../../../packages/server/test/helpers/services.ts'
import { startStack, type Stack } from './helpers/stack.ts'

await needed(requireChromium)
const SENTENCE = 'Please call me back when you get home tonight.'
const RATE = 48000
let dir: string
let stack: Stack
let browser: Browser

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'voxgate-mic-'))
  const file = path.join(dir, 'mic.wav')
  // Flite only, which speaks each sentence in a fresh instance: warming the engines (seconds of CPU) changes no byte.
  const speech = await createSpeechService({ workers: 1, warm: false })
  try {
    // A second of silence first (capture starts a moment after the device), then the sentence and a
    // pause long enough for the recogniser to end the utterance. Chromium loops the file.
    writeFileSync(
      file,
      wav(
        concatPcm([
          silence(1, RATE),
          await speak(speech, FLITE_VOICES.get('slt')!, SENTENCE, RATE),
          silence(1.5, RATE),
        ]),
        RATE,
      ),
    )
  } finally {
    await speech.close()
  }
  stack = await startStack('cookie', 60)
  browser = await launchChromium([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${file}`,
  ])
})

after(async () => {
  await browser?.close()
  await stack?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('Listen: partial then final transcripts of what the microphone hears, over a token minted for tts + stt; "Listening…" replaces the Speak status', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, permissions: ['microphone'] })
  // Starting to listen waits for a recogniser, which a suite of files at once makes slow to come: every
  // wait here gets a long guard against a hang (Playwright's 30 s was passed under load 17), none a speed requirement.
  context.setDefaultTimeout(90_000)
  const page = await context.newPage()
  await signUpThenIn(page, stack.app.url, 'grace@example.test', 'correct horse battery staple')

  // Speak first: what Listen says in the status line replaces Speak's "Done".
  await page.getByLabel('Text').fill('A few words first.')
  await page.getByRole('button', { name: 'Speak' }).click()
  await page
    .getByRole('status')
    .filter({ hasText: /^Done$/ })
    .waitFor()
  await recordStatus(page)
  await page.getByRole('button', { name: 'Listen' }).click()
  await page.getByRole('button', { name: 'Stop listening' }).waitFor()
  assert.equal(await page.getByRole('status').textContent(), 'Listening…')
  // The first utterance ends in the WAV's 1.5 s pause; its final is on the page.
  await page.waitForFunction(
    () => (window.voxgateDemo.listen?.finals.length ?? 0) > 0 || (window.voxgateDemo.listen?.failures ?? 0) > 0,
    undefined,
    { timeout: 60_000 },
  )
  await page.getByRole('button', { name: 'Stop listening' }).click()
  // Stopping waits for the recogniser to finish what it was sent, which lags the microphone on a
  // loaded machine: a long guard against a hang, not a speed requirement.
  await page.getByRole('button', { name: 'Listen', exact: true }).waitFor({ timeout: 120_000 })
  assert.deepEqual(
    (await statusLog(page)).map((c) => c.text),
    ['Listening…', 'Done'],
  )
  const listen = await page.evaluate(() => window.voxgateDemo.listen!)
  assert.equal(listen.failures, 0, String(await page.getByRole('alert').textContent()))
  assert.equal(listen.processor, 'audio-worklet')
  assert.ok(listen.partials > 0, 'partial transcripts appeared while the words were spoken')
  const first = listen.finals[0] ?? ''
  const w = wer(SENTENCE, first)
  assert.ok(w.errors / w.words <= 0.3, `heard "${first}"`)
  const shown = await page.locator('#final').textContent()
  assert.equal(shown, listen.transcript)
  assert.ok(shown?.includes(first))
  await context.close()
})
