/**
 * Revocation reaches live streams: every way to revoke ends an open WebSocket (each context gets a
 * `token_revoked` error event, then close 4401) and an open SSE stream within 1 s of the revoke call.
 * That second is the contract, so the tests measure it (the one timing threshold we allow).
 * Then: revoking by `sub` alone (this second included), revocations survive a restart, the in-band
 * `refresh_token`, and the session grace.
 * Over 400 lines: each way to revoke meets each carrier; the restart, refresh and grace cases are
 * the first to move to a file of their own.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { createKey } from '../../src/keys/create-key.ts'
import { rotateSigningKey } from '../../src/auth/key-ring.ts'
import { cliOrigin } from '../../src/audit/origin.ts'
import { ManualClock } from '../helpers/clock.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import {
  type Inbox,
  closeQuietly,
  drainSlowly,
  openInbox,
  readSse,
  sleep,
  ttsBody,
  voiceIds,
  type SseEvent,
} from '../helpers/security.ts'
import { signWith } from '../helpers/forge.ts'

const CONTRACT_MS = 1000
let t: TestServer
let voice: string
before(async () => {
  t = await startTestServer()
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
})
after(() => t.close())

const nowS = (): number => Math.floor(Date.now() / 1000)
const revokeCall = async (body: unknown): Promise<void> => {
  const res = await call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body })
  assert.equal(res.status, 200, res.text)
  assert.deepEqual(res.json, { revoked: true })
}
const self = (token: string) => call(t.url, '/access-token/self', { headers: bearer(token) })

/** Polls `/access-token/self` until the token holds `n` open streams (so the streams are really open). */
async function openStreamsReach(token: string, n: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await self(token)
    assert.equal(res.status, 200, res.text)
    if (res.json.usage.open_streams === n) return
    await sleep(20)
  }
  assert.fail(`open_streams never reached ${n}`)
}

interface Victim {
  token: string
  revoke(): Promise<void>
}

/** Every way to revoke: each mints a fresh tts token and returns how to revoke it. */
const MODES: { name: string; setup(): Promise<Victim> }[] = [
  {
    name: 'revoke by {token}',
    async setup() {
      const token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
      return { token, revoke: () => revokeCall({ token }) }
    },
  },
  {
    name: 'revoke by {jti}',
    async setup() {
      const token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
      return { token, revoke: () => revokeCall({ jti: decodeJwt(token).jti }) }
    },
  },
  {
    name: 'revoke by {sub, issued_before}',
    async setup() {
      const sub = `user-${Math.random().toString(36).slice(2)}`
      const token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600, sub })
      return { token, revoke: () => revokeCall({ sub, issued_before: nowS() + 1 }) }
    },
  },
  {
    name: 'revoke the API key (seen by the store poller)',
    async setup() {
      const victim = await createKey(t.server.ctx.store, 'victim', Date.now())
      const token = await mint(t.url, victim.key, { grants: { tts: true }, expires_in: 600 })
      return {
        token,
        revoke: async () => assert.equal(await t.server.ctx.store.revokeApiKey(victim.id, Date.now()), true),
      }
    },
  },
]

/**
 * A client reading slowly: 20 reads a second, far slower than audio arrives, so megabytes queue up
 * for it in the server and the kernel. (Whatever fetch has already pulled into its own buffer the
 * reader still consumes after the cut; at this pace that takes well under the contract.)
 */
const SLOW_READ_PAUSE_MS = 50
const LONG = 'Revocation must stop this stream at once. '.repeat(230).slice(0, 10_000)

describe('revocation ends live streams within 1 s', () => {
  for (const mode of MODES) {
    test(`${mode.name}: a live WebSocket gets token_revoked on every context, then close 4401`, async () => {
      const { token, revoke } = await mode.setup()
      const inbox = await openInbox(t.url, { query: `?access_token=${token}` })
      try {
        for (const id of ['ctx-a', 'ctx-b']) inbox.send({ ...ttsBody(voice, ''), context_id: id, continue: true })
        await openStreamsReach(token, 2)
        const t0 = performance.now()
        await revoke()
        const close = await inbox.closed(3000)
        assert.equal(close.code, 4401)
        assert.ok(close.at - t0 < CONTRACT_MS, `socket closed ${Math.round(close.at - t0)} ms after the revoke call`)
        for (const id of ['ctx-a', 'ctx-b']) {
          const end = await inbox.terminal(id, 0)
          assert.equal(end.type, 'error')
          assert.equal(end.error_code, 'token_revoked')
          assert.equal(end.done, true)
          assert.ok(inbox.timeOf((m) => m === end)! <= close.at, 'the error event precedes the close')
        }
        const after = await self(token)
        assert.equal(after.status, 401)
        assert.equal(after.json.error_code, 'token_revoked')
      } finally {
        closeQuietly(inbox.ws)
      }
    })

    test(`${mode.name}: a live SSE stream read slowly ends with token_revoked`, async () => {
      const { token, revoke } = await mode.setup()
      const res = await fetch(`${t.url}/tts/sse`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(ttsBody(voice, LONG)),
      })
      assert.equal(res.status, 200)
      let firstEvent!: () => void
      const started = new Promise<void>((r) => {
        firstEvent = r
      })
      const reading = readSse(res.body!, { pauseMs: SLOW_READ_PAUSE_MS, onEvent: () => firstEvent() })
      await started
      await openStreamsReach(token, 1)
      const t0 = performance.now()
      await revoke()
      const { events, endedAt, cut } = await reading
      const elapsed = Math.round(endedAt - t0)
      // Ending means the client learns of it: the terminal error event, or at least a cut connection.
      assert.ok(
        elapsed < CONTRACT_MS,
        `the stream went on for ${elapsed} ms after the revoke call (${events.length} events read, still audio after the revocation)`,
      )
      if (cut === undefined) {
        const last = events.at(-1) as SseEvent
        assert.equal(last.event, 'error', `last event: ${JSON.stringify(last.data).slice(0, 200)}`)
        assert.equal(last.data.error_code, 'token_revoked')
      }
    })

    test(`${mode.name}: a live /tts/bytes response read slowly is cut, never finished as if complete`, async () => {
      const { token, revoke } = await mode.setup()
      // 48 kHz f32: ~18 MB of audio, far more than loopback socket buffers absorb, so the stream is
      // still live (held back by the slow reader) when the revocation lands, however late the poll.
      const body = ttsBody(voice, LONG, {
        output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 48000 },
      })
      const res = await fetch(`${t.url}/tts/bytes`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      assert.equal(res.status, 200)
      let firstBytes!: () => void
      const started = new Promise<void>((r) => {
        firstBytes = r
      })
      const reading = drainSlowly(res.body!, SLOW_READ_PAUSE_MS, () => firstBytes())
      await started
      await openStreamsReach(token, 1)
      const t0 = performance.now()
      await revoke()
      const { bytes, endedAt, cut } = await reading
      const elapsed = Math.round(endedAt - t0)
      assert.ok(
        cut !== undefined,
        `the response ended cleanly after ${bytes} bytes: a revoked stream must not look like complete audio`,
      )
      assert.ok(
        elapsed < CONTRACT_MS,
        `the response went on for ${elapsed} ms after the revoke call (${bytes} bytes read)`,
      )
    })
  }

  test('revoking by {sub, issued_before} spares the same sub issued at or after the cutoff, and other subs', async () => {
    const sub = `user-${Math.random().toString(36).slice(2)}`
    const old = await mint(t.url, t.apiKey, { grants: { voices: true }, expires_in: 600, sub })
    const otherSub = await mint(t.url, t.apiKey, { grants: { voices: true }, expires_in: 600, sub: `${sub}-other` })
    while (nowS() <= (decodeJwt(old).iat as number)) await sleep(25)
    const cutoff = nowS()
    await revokeCall({ sub, issued_before: cutoff })
    const fresh = await mint(t.url, t.apiKey, { grants: { voices: true }, expires_in: 600, sub })
    assert.ok((decodeJwt(fresh).iat as number) >= cutoff)
    assert.equal((await self(old)).json.error_code, 'token_revoked')
    assert.equal((await self(fresh)).status, 200)
    assert.equal((await self(otherSub)).status, 200)
  })

  test('a WebSocket authenticated by the API key itself closes 4401 when the key is revoked', async () => {
    const victim = await createKey(t.server.ctx.store, 'victim-ws', Date.now())
    const inbox = await openInbox(t.url, { headers: { 'x-api-key': victim.key } })
    try {
      inbox.send({ ...ttsBody(voice, ''), context_id: 'k', continue: true })
      await sleep(50)
      const t0 = performance.now()
      assert.equal(await t.server.ctx.store.revokeApiKey(victim.id, Date.now()), true)
      const close = await inbox.closed(3000)
      assert.equal(close.code, 4401)
      assert.ok(close.at - t0 < CONTRACT_MS, `closed after ${Math.round(close.at - t0)} ms`)
      assert.equal((await inbox.terminal('k', 0)).error_code, 'token_revoked')
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})

describe('revocations survive a restart', () => {
  test('jti, sub and key revocations are all still in force on the same data folder', async () => {
    const first = await startTestServer()
    const voicesToken = (key: string, sub?: string) =>
      mint(first.url, key, { grants: { voices: true }, expires_in: 600, ...(sub && { sub }) })
    const byJti = await voicesToken(first.apiKey)
    const bySub = await voicesToken(first.apiKey, 'restart-user')
    const victim = await createKey(first.server.ctx.store, 'victim', Date.now())
    const byKey = await voicesToken(victim.key)
    const untouched = await voicesToken(first.apiKey)
    const revoke = (body: unknown) => call(first.url, '/access-token/revoke', { headers: bearer(first.apiKey), body })
    assert.equal((await revoke({ jti: decodeJwt(byJti).jti })).status, 200)
    assert.equal((await revoke({ sub: 'restart-user', issued_before: nowS() + 1 })).status, 200)
    assert.equal(await first.server.ctx.store.revokeApiKey(victim.id, Date.now()), true)
    await first.close({ keepData: true })

    const second = await startTestServer({ dataDir: first.dataDir })
    try {
      const voices = (token: string) => call(second.url, '/voices', { headers: bearer(token) })
      for (const [name, token] of [
        ['jti', byJti],
        ['sub', bySub],
        ['key', byKey],
      ] as const) {
        const res = await voices(token)
        assert.equal(res.status, 401, `${name}: ${res.text}`)
        assert.equal(res.json.error_code, 'token_revoked', name)
      }
      assert.equal((await voices(untouched)).status, 200)
      const keyRes = await call(second.url, '/access-token', { headers: bearer(victim.key), body: {} })
      assert.equal(keyRes.status, 401)
      assert.equal(keyRes.json.error_code, 'invalid_credentials')
    } finally {
      await second.close()
    }
  })
})

describe('revoking by `sub` alone', () => {
  test("covers every token issued until now by the server's clock, the current second included; audited with that cutoff", async () => {
    // 0.2 s into a second: a token minted now has this second as its `iat`, which `issued_before: now`
    // (exclusive, whole seconds) would spare. The console revokes a user this way.
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000 + 200)
    const c = await startTestServer({}, { clock })
    try {
      const sub = 'carol'
      const second = Math.floor(clock.now() / 1000)
      const minted = await mint(c.url, c.apiKey, { grants: { voices: true }, expires_in: 600, sub })
      assert.equal(decodeJwt(minted).iat, second)
      clock.advance(500)
      const other = await mint(c.url, c.apiKey, { grants: { voices: true }, expires_in: 600, sub: 'dave' })
      const res = await call(c.url, '/access-token/revoke', { headers: bearer(c.apiKey), body: { sub } })
      assert.deepEqual([res.status, res.json], [200, { revoked: true }])
      const voices = (token: string) => call(c.url, '/voices', { headers: bearer(token) })
      const refused = await voices(minted)
      assert.deepEqual([refused.status, refused.json.error_code], [401, 'token_revoked'])
      assert.equal((await voices(other)).status, 200, 'another sub is untouched')
      // Later in the same second, a new token of that sub is refused too (the cutoff is the next second);
      // from the next second on, new tokens work.
      clock.advance(200)
      const sameSecond = await mint(c.url, c.apiKey, { grants: { voices: true }, expires_in: 600, sub })
      assert.equal((await voices(sameSecond)).json.error_code, 'token_revoked')
      clock.advance(200)
      const nextSecond = await mint(c.url, c.apiKey, { grants: { voices: true }, expires_in: 600, sub })
      assert.equal(decodeJwt(nextSecond).iat, second + 1)
      assert.equal((await voices(nextSecond)).status, 200)
      const audit = await call(c.url, '/audit?action=subject.revoked', { headers: bearer(c.apiKey) })
      assert.equal(audit.status, 200, audit.text)
      const rows = (audit.json as { data: { details: { issued_before: number } }[] }).data
      assert.deepEqual(
        rows.map((r) => r.details.issued_before),
        [second + 1],
      )
    } finally {
      await c.close()
    }
  })

  test('an explicit `issued_before` stays exclusive: a token of that very second is spared', async () => {
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000 + 200)
    const c = await startTestServer({}, { clock })
    try {
      const sub = 'erin'
      const token = await mint(c.url, c.apiKey, { grants: { voices: true }, expires_in: 600, sub })
      const iat = decodeJwt(token).iat as number
      const res = await call(c.url, '/access-token/revoke', {
        headers: bearer(c.apiKey),
        body: { sub, issued_before: iat },
      })
      assert.equal(res.status, 200)
      assert.equal((await call(c.url, '/voices', { headers: bearer(token) })).status, 200)
    } finally {
      await c.close()
    }
  })
})

describe('revocations outlive every token they cover', () => {
  test('a {sub, issued_before} cutoff in the future still holds after the store prunes old revocations (key rotation)', async () => {
    const clock = new ManualClock(Date.now())
    const c = await startTestServer({}, { clock })
    try {
      const sub = 'blocked-user'
      const cutoff = Math.floor(clock.now() / 1000) + 10 * 3600
      const res = await call(c.url, '/access-token/revoke', {
        headers: bearer(c.apiKey),
        body: { sub, issued_before: cutoff },
      })
      if (res.status === 400)
        return assert.equal(res.json.error_code, 'invalid_request', 'refusing a future cutoff is a fix too')
      assert.equal(res.status, 200, res.text)
      clock.advance(3 * 3600_000)
      const token = await mint(c.url, c.apiKey, { grants: { voices: true }, expires_in: 3600, sub })
      assert.ok((decodeJwt(token).iat as number) < cutoff)
      const voices = () => call(c.url, '/voices', { headers: bearer(token) })
      assert.equal((await voices()).json?.error_code, 'token_revoked', 'issued before the cutoff: revoked')
      await rotateSigningKey(c.server.ctx.store, clock.now(), { toleranceSeconds: 5, origin: cliOrigin() })
      await c.server.ctx.sync.refresh()
      const after = await voices()
      assert.equal(after.status, 401, `the revoked token came back to life after the prune: ${after.status}`)
      assert.equal(after.json.error_code, 'token_revoked')
    } finally {
      await c.close()
    }
  })
})

describe('in-band refresh_token', () => {
  async function socketWith(token: string): Promise<Inbox> {
    return openInbox(t.url, { query: `?access_token=${token}` })
  }
  const refresh = (inbox: Inbox, access_token: string) => inbox.send({ type: 'refresh_token', access_token })
  const said = (inbox: Inbox, from: number) =>
    inbox.message(
      (m) => inbox.messages.indexOf(m) >= from && (m.type === 'token_refreshed' || m.type === 'error'),
      3000,
      'the answer to refresh_token',
    )

  test('a fresh valid token is accepted: token_refreshed with its expiry', async () => {
    const inbox = await socketWith(await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 60 }))
    try {
      const fresh = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
      refresh(inbox, fresh)
      const ack = await said(inbox, 0)
      assert.equal(ack.type, 'token_refreshed', JSON.stringify(ack))
      assert.equal(ack.expires_at, decodeJwt(fresh).exp)
    } finally {
      closeQuietly(inbox.ws)
    }
  })

  const BAD: { name: string; code: string; make(): Promise<string> }[] = [
    {
      name: 'a revoked token',
      code: 'token_revoked',
      async make() {
        const token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
        await revokeCall({ token })
        return token
      },
    },
    {
      name: 'an expired token',
      code: 'token_expired',
      make() {
        const { kid, privateKey } = t.server.ctx.keyRing.signer()
        const now = nowS()
        return signWith(privateKey, kid, {
          iss: 'voxgate',
          aud: 'voxgate',
          iat: now - 700,
          exp: now - 100,
          jti: 'tok_expired_refresh',
          key_id: t.apiKeyId,
          grants: { tts: true },
        })
      },
    },
    {
      name: 'a token without the tts grant',
      code: 'insufficient_scope',
      make: () => mint(t.url, t.apiKey, { grants: { voices: true }, expires_in: 600 }),
    },
    { name: 'a garbage token', code: 'invalid_credentials', make: async () => 'eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.' },
  ]

  for (const bad of BAD) {
    test(`${bad.name} is refused with ${bad.code}, and the socket keeps its old credential`, async () => {
      const original = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
      const inbox = await socketWith(original)
      try {
        refresh(inbox, await bad.make())
        const answer = await said(inbox, 0)
        assert.equal(answer.type, 'error')
        assert.equal(answer.error_code, bad.code)
        // Still usable on the old credential...
        inbox.send({ ...ttsBody(voice, 'Still here.'), context_id: 'after' })
        assert.equal((await inbox.terminal('after')).type, 'done')
        // ...and it is still the old credential that governs the socket: revoking it closes it.
        await revokeCall({ token: original })
        assert.equal((await inbox.closed(CONTRACT_MS)).code, 4401)
      } finally {
        closeQuietly(inbox.ws)
      }
    })
  }
})

describe('session grace after token expiry', () => {
  const GRACE_MS = 500
  let g: TestServer
  before(async () => {
    g = await startTestServer({ wsSessionGraceMs: GRACE_MS })
  })
  after(() => g.close())

  test('a socket outlives its token by at most wsSessionGraceMs, then every context gets token_expired and close 4401', async () => {
    const token = await mint(g.url, g.apiKey, { grants: { tts: true }, expires_in: 1 })
    const expMs = (decodeJwt(token).exp as number) * 1000
    const inbox = await openInbox(g.url, { query: `?access_token=${token}` })
    try {
      inbox.send({ ...ttsBody(voice, ''), context_id: 'long', continue: true })
      const close = await inbox.closed(expMs + GRACE_MS + 3000 - Date.now())
      const closedAtMs = performance.timeOrigin + close.at
      assert.equal(close.code, 4401)
      assert.ok(
        closedAtMs - expMs <= GRACE_MS + 300,
        `closed ${Math.round(closedAtMs - expMs)} ms after exp (grace ${GRACE_MS})`,
      )
      assert.ok(
        closedAtMs - expMs >= GRACE_MS - 100,
        `closed ${Math.round(closedAtMs - expMs)} ms after exp, before the grace ran out`,
      )
      const end = await inbox.terminal('long', 0)
      assert.equal(end.type, 'error')
      assert.equal(end.error_code, 'token_expired')
    } finally {
      closeQuietly(inbox.ws)
    }
  })

  test('a refresh before the deadline extends the socket past it', async () => {
    const token = await mint(g.url, g.apiKey, { grants: { tts: true }, expires_in: 1 })
    const expMs = (decodeJwt(token).exp as number) * 1000
    const inbox = await openInbox(g.url, { query: `?access_token=${token}` })
    try {
      inbox.send({
        type: 'refresh_token',
        access_token: await mint(g.url, g.apiKey, { grants: { tts: true }, expires_in: 600 }),
      })
      assert.equal(
        (await inbox.message((m) => m.type === 'token_refreshed' || m.type === 'error')).type,
        'token_refreshed',
      )
      await sleep(Math.max(0, expMs + GRACE_MS + 400 - Date.now()))
      assert.equal(inbox.closeInfo, undefined, 'still open past the old deadline')
      inbox.send({ ...ttsBody(voice, 'Extended.'), context_id: 'x' })
      assert.equal((await inbox.terminal('x')).type, 'done')
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})
