import { test } from 'node:test'
import { runScenario } from './helpers/scenario.ts'

test('cookie mode in Chromium: sign up, sign in, speak over bytes, SSE and WebSocket across token lifetimes, sign out', async () => {
  await runScenario('cookie', 'speak-page.png')
})
