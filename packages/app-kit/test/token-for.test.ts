/** `tokenFor`: the app decides sub, grants and limits per user; a malformed answer is a generic 500. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { TokenLimits as ProtocolTokenLimits } from '@voxgate/protocol/schemas'
import { createAppKit, type AppKitOptions, type TokenSpec } from '../src/index.ts'
import {
  API_KEY,
  APP_ORIGIN,
  VOICE_API,
  browserPost,
  captureLogger,
  fakeVoiceApi,
  jsonResponse,
} from './helpers/fake-voice-api.ts'

const NOW_MS = 1_767_225_600_500
const alice = { id: 'user-alice', session: 'sess-1' }

function kit(tokenFor: AppKitOptions['tokenFor'], extra: Partial<AppKitOptions> = {}) {
  const api = fakeVoiceApi((call) =>
    jsonResponse(200, call.url.endsWith('/revoke') ? { revoked: true } : { token: 'opaque-token' }),
  )
  const log = captureLogger()
  const k = createAppKit({
    voiceApiUrl: VOICE_API,
    apiKey: API_KEY,
    allowedOrigins: [APP_ORIGIN],
    mode: 'memory',
    authenticate: () => alice,
    tokenFor,
    now: () => NOW_MS,
    fetch: api.fetch,
    logger: log.logger,
    ...extra,
  })
  return { ...k, calls: api.calls, log }
}

describe('tokenFor: what the app decides per user', () => {
  test('limits and sub from the signed-in user reach POST /access-token; grants default', async () => {
    const seen: unknown[] = []
    const { tokenRoute, calls } = kit(async (user) => {
      seen.push(user)
      return {
        sub: `app1:${user.id}`,
        limits: { characters: 5000, concurrent_streams: 2, voices: ['v1', 'v2'], origins: [APP_ORIGIN] },
      }
    })
    assert.equal((await tokenRoute(browserPost('/t'))).status, 200)
    assert.deepEqual(seen, [alice])
    assert.deepEqual(calls[0]!.body, {
      grants: { tts: true },
      expires_in: 60,
      sub: 'app1:user-alice',
      limits: { characters: 5000, concurrent_streams: 2, voices: ['v1', 'v2'], origins: [APP_ORIGIN] },
    })
  })

  test('grants from tokenFor replace the default; fields left out keep subject', async () => {
    const { tokenRoute, calls } = kit(() => ({ grants: { tts: true, stt: false } }), { subject: (u) => `s:${u.id}` })
    await tokenRoute(browserPost('/t'))
    assert.deepEqual(calls[0]!.body, { grants: { tts: true, stt: false }, expires_in: 60, sub: 's:user-alice' })
  })

  test('subject: false with a sub from tokenFor sends that sub; with none, no sub', async () => {
    const a = kit(() => ({ sub: 'explicit' }), { subject: false })
    await a.tokenRoute(browserPost('/t'))
    assert.equal(a.calls[0]!.body.sub, 'explicit')
    const b = kit(() => ({ limits: { characters: 10 } }), { subject: false })
    await b.tokenRoute(browserPost('/t'))
    assert.equal('sub' in b.calls[0]!.body, false)
  })

  test('sign-out revokes the sub tokenFor mints with', async () => {
    const { signOutRoute, calls } = kit(() => ({ sub: 'tenant-7:user-alice' }), { revokeOnSignOut: true })
    await signOutRoute(browserPost('/sign-out'))
    assert.deepEqual(
      calls.map((c) => [c.url, c.body.sub]),
      [[`${VOICE_API}/access-token/revoke`, 'tenant-7:user-alice']],
    )
  })

  const malformed: [string, unknown][] = [
    ['null', null],
    ['an array', []],
    ['an unknown field', { sub: 'x', admin: true }],
    ['an empty sub', { sub: '' }],
    ['a sub of 257 characters', { sub: 'SECRET-'.padEnd(257, 'x') }],
    ['a numeric sub', { sub: 42 }],
    ['grants with a non-boolean', { grants: { tts: 'yes' } }],
    ['grants as an array', { grants: ['tts'] }],
    ['characters 0', { limits: { characters: 0 } }],
    ['characters past 100 000 000', { limits: { characters: 100_000_001 } }],
    ['fractional characters', { limits: { characters: 1.5 } }],
    ['concurrent_streams 101', { limits: { concurrent_streams: 101 } }],
    ['an empty voices list', { limits: { voices: [] } }],
    ['a voice id of 129 characters', { limits: { voices: ['v'.repeat(129)] } }],
    ['an origin with a path', { limits: { origins: ['https://app.example.test/x'] } }],
    ['21 origins', { limits: { origins: Array.from({ length: 21 }, (_, i) => `https://a${i}.example.test`) } }],
    ['an unknown limit', { limits: { characters: 10, bitrate: 1 } }],
  ]
  for (const [name, answer] of malformed) {
    test(`${name} → 500 internal_error, nothing minted, nothing of the answer in the reply or the log`, async () => {
      const { tokenRoute, calls, log } = kit(() => answer as TokenSpec)
      const res = await tokenRoute(browserPost('/t'))
      assert.equal(res.status, 500)
      const body = await res.json()
      assert.equal(body.error_code, 'internal_error')
      assert.equal(body.message, 'The server failed to handle the request.')
      assert.equal(calls.length, 0)
      const line = JSON.parse(log.lines.find((l) => l.includes('app-kit route failed'))!)
      assert.equal(line.error, 'TypeError')
      assert.doesNotMatch(JSON.stringify(body) + log.text(), /SECRET|tenant|bitrate/)
    })
  }

  test('tokenFor throwing is a 500 that says nothing of the failure', async () => {
    const { tokenRoute, log } = kit(() => {
      throw new Error('db down: secret detail')
    })
    const res = await tokenRoute(browserPost('/t'))
    assert.equal(res.status, 500)
    assert.doesNotMatch(JSON.stringify(await res.json()) + log.text(), /secret detail/)
  })

  test('tokenFor that is not a function, or grants that are not booleans, are TypeErrors at start-up', () => {
    const base = { voiceApiUrl: VOICE_API, apiKey: API_KEY, allowedOrigins: [APP_ORIGIN], authenticate: () => null }
    assert.throws(() => createAppKit({ ...base, tokenFor: {} as never }), TypeError)
    assert.throws(() => createAppKit({ ...base, grants: { tts: 1 } as never }), TypeError)
  })
})

describe('the app kit checks limits exactly as voxgate does', () => {
  // Each case goes one past a bound of voxgate's TokenLimits schema, or sits right on it.
  const cases: unknown[] = [
    { characters: 1 },
    { characters: 100_000_000 },
    { characters: 0 },
    { characters: 100_000_001 },
    { concurrent_streams: 1 },
    { concurrent_streams: 100 },
    { concurrent_streams: 0 },
    { concurrent_streams: 101 },
    { voices: ['a'] },
    { voices: ['v'.repeat(128)] },
    { voices: ['v'.repeat(129)] },
    { voices: [''] },
    { voices: [] },
    { voices: Array.from({ length: 100 }, (_, i) => `v${i}`) },
    { voices: Array.from({ length: 101 }, (_, i) => `v${i}`) },
    { origins: ['https://a.example.test'] },
    { origins: ['http://localhost:8080'] },
    { origins: ['https://a.example.test/'] },
    { origins: ['ftp://a.example.test'] },
    { origins: Array.from({ length: 20 }, (_, i) => `https://a${i}.test`) },
    { origins: Array.from({ length: 21 }, (_, i) => `https://a${i}.test`) },
    { other: 1 },
    {},
  ]
  for (const limits of cases) {
    test(JSON.stringify(limits).slice(0, 80), async () => {
      const { tokenRoute } = kit(() => ({ limits }) as TokenSpec)
      const accepted = (await tokenRoute(browserPost('/t'))).status === 200
      assert.equal(accepted, ProtocolTokenLimits.safeParse(limits).success)
    })
  }
})
