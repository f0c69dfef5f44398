import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { MissingService } from './services.ts'

/** The Chromium the browser tests drive (playwright-core downloads none); CHROMIUM_PATH picks another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Headless, no sandbox (tests run as root in CI), nothing fetched in the background, audio without a click. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--autoplay-policy=no-user-gesture-required',
]

/** Throws one line naming what to install when there is no Chromium at CHROMIUM_PATH. */
export function requireChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return
  throw new MissingService(
    `Chromium is not installed at ${CHROMIUM_PATH}; install it (.ci/run does: apt-get install chromium fonts-liberation) or set CHROMIUM_PATH`,
  )
}

/** Launches the test Chromium with CHROMIUM_ARGS and `extraArgs`, after checking it is there. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  requireChromium()
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] })
}
