import { test } from 'node:test'
import { startTestServer } from '../../helpers/server.ts'
import { bearer, call, mint } from '../../helpers/http.ts'
import { openInbox } from '../../helpers/security.ts'
test('probe', async () => {
  const t = await startTestServer()
  const token = await mint(t.url, t.apiKey, { grants: { voices: true, tts: true }, sub: 'user-9' })
  await call(t.url, '/voices', { headers: bearer(token) })
  await call(t.url, '/voices', { headers: bearer('sk_vx_bad') })
  const i = await openInbox(t.url, { query: `?access_token=${token}` })
  i.ws.close()
  await new Promise((r) => setTimeout(r, 100))
  console.error(t.logs.text())
  await t.close()
})
