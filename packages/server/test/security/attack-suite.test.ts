/**
 * One shared attack suite (STYLE.md habit 9, `runAuthSuite(route)`): every attack in ATTACKS is run
 * against every target in TARGETS (each HTTP route and both WebSocket carriers), and each asserts the
 * exact status and error code. At the end, the server's logs must hold none of the secrets used.
 * The targets are routes of the route table (app/route-table.ts); attack-suite-routes.test.ts runs the
 * refusals on every route of it.
 * Over 400 lines because the suite is one matrix (attacks × targets) whose point is that nothing is
 * left out: split, a new target could be added to one half and miss the other half's attacks.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import https from 'node:https'
import { decodeJwt } from 'jose'
import { createKey } from '../../src/keys/create-key.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { foreignKey, forgeries, signWith } from '../helpers/forge.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { FakeUpstream } from '../helpers/fake-upstream.ts'
import { WsSession } from '../helpers/ws-session.ts'
import { flacOf } from '../stt/bombs.ts'
import { routeKey } from '../../src/http/route-doc.ts'
import { routeTableOf } from '../helpers/route-table.ts'

let t: TestServer
let voice: string
/** Every secret this file presents, so the log check at the end knows what to look for. */
const secrets = new Set<string>()

before(async () => {
  t = await startTestServer()
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
})
after(() => t.close())

// ---------------------------------------------------------------- targets

type Need = 'tts' | 'voices' | 'any' | 'api_key'

/** What an attacker presents: a credential (placed by the target's carrier) and extra headers. */
interface Presented {
  credential?: string
  headers?: Record<string, string>
}

interface Outcome {
  status: number
  code: string | undefined
  wwwAuthenticate: string | undefined
  text: string
}

interface Target {
  name: string
  needs: Need
  /** The status of a request the credential is good for. */
  okStatus: number
  send(p: Presented): Promise<Outcome>
}

function httpTarget(
  name: string,
  needs: Need,
  okStatus: number,
  method: string,
  path: () => string,
  body?: () => unknown,
): Target {
  return {
    name,
    needs,
    okStatus,
    async send(p) {
      const headers = { ...p.headers, ...(p.credential !== undefined && bearer(p.credential)) }
      const res = await call(t.url, path(), { method, headers, ...(body && { body: body() }) })
      return {
        status: res.status,
        code: res.json?.error_code,
        wwwAuthenticate: res.headers.get('www-authenticate') ?? undefined,
        text: res.text,
      }
    },
  }
}

function wsTarget(name: string, carrier: 'header' | 'query'): Target {
  return {
    name,
    needs: 'tts',
    okStatus: 101,
    async send(p) {
      const viaQuery = carrier === 'query' && p.credential !== undefined
      const headers = { ...p.headers, ...(carrier === 'header' && p.credential !== undefined && bearer(p.credential)) }
      const h = await handshake(
        wsUrl(t.url, viaQuery ? `?access_token=${encodeURIComponent(p.credential!)}` : ''),
        headers,
      )
      h.ws?.close()
      let code: string | undefined
      try {
        code = h.body ? JSON.parse(h.body).error_code : undefined
      } catch {
        code = undefined
      }
      const www = h.headers['www-authenticate']
      return { status: h.status, code, wwwAuthenticate: Array.isArray(www) ? www.join(', ') : www, text: h.body }
    },
  }
}

const TARGETS: Target[] = [
  httpTarget(
    'POST /tts/bytes',
    'tts',
    200,
    'POST',
    () => '/tts/bytes',
    () => ttsBody(voice, 'Hi.'),
  ),
  httpTarget(
    'POST /tts/sse',
    'tts',
    200,
    'POST',
    () => '/tts/sse',
    () => ttsBody(voice, 'Hi.'),
  ),
  wsTarget('WS /tts/websocket (Authorization header)', 'header'),
  wsTarget('WS /tts/websocket (?access_token=)', 'query'),
  httpTarget('GET /voices', 'voices', 200, 'GET', () => '/voices'),
  httpTarget('GET /voices/:id', 'voices', 200, 'GET', () => `/voices/${voice}`),
  httpTarget('GET /access-token/self', 'any', 200, 'GET', () => '/access-token/self'),
  httpTarget(
    'POST /access-token',
    'api_key',
    200,
    'POST',
    () => '/access-token',
    () => ({ grants: { tts: true }, expires_in: 60 }),
  ),
  httpTarget(
    'POST /access-token/revoke',
    'api_key',
    200,
    'POST',
    () => '/access-token/revoke',
    () => ({ jti: 'tok_never_issued' }),
  ),
]

// ---------------------------------------------------------------- attacks

type Expect = { status: number; code?: string } | 'skip'

interface Attack {
  name: string
  present(target: Target): Promise<Presented>
  expect(target: Target): Expect
}

const nowS = (): number => Math.floor(Date.now() / 1000)
const FULL = { tts: true, voices: true }

/** Claims of a well-formed token of this server, for crafting with its own signing key. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowS()
  return {
    iss: 'voxgate',
    aud: 'voxgate',
    iat: now,
    exp: now + 600,
    jti: `tok_crafted_${Math.random().toString(36).slice(2)}`,
    key_id: t.apiKeyId,
    grants: FULL,
    ...extra,
  }
}
const ownSigned = (c: Record<string, unknown>): Promise<string> => {
  const { kid, privateKey } = t.server.ctx.keyRing.signer()
  return signWith(privateKey, kid, c)
}

/** Memoised per attack: each credential is built once and reused on every target. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined
  return () => (p ??= make())
}

const genuineFull = once(() => mint(t.url, t.apiKey, { grants: FULL, expires_in: 600 }))
/** The forgeries start from a tts-only token, so "tampered payload" (which adds grants) really changes it. */
const genuineTts = once(() => mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 }))
const forged = once(async () => {
  const publicPem = createPublicKey(t.server.ctx.keyRing.signer().privateKey)
    .export({ format: 'pem', type: 'spki' })
    .toString()
  const genuine = await genuineTts()
  const all = forgeries(genuine, publicPem)
  for (const [name, token] of Object.entries(all))
    assert.notEqual(token, genuine, `${name} differs from the genuine token`)
  return all
})
const injected = (header: 'jwk' | 'jku' | 'x5u') =>
  once(async () => {
    const key = foreignKey()
    const value = header === 'jwk' ? createPublicKey(key).export({ format: 'jwk' }) : `https://127.0.0.1:1/${header}`
    return signWith(key, t.server.ctx.keyRing.signer().kid, decodeJwt(await genuineFull()), { [header]: value })
  })
const foreignInstanceToken = once(async () => {
  const other = await startTestServer()
  try {
    return await mint(other.url, other.apiKey, { grants: FULL, expires_in: 600 })
  } finally {
    await other.close()
  }
})
const revokedKey = once(async () => {
  const victim = await createKey(t.server.ctx.store, 'victim', Date.now())
  const token = await mint(t.url, victim.key, { grants: FULL, expires_in: 600 })
  assert.equal(await t.server.ctx.store.revokeApiKey(victim.id, Date.now()), true)
  await t.server.ctx.sync.refresh()
  return { key: victim.key, token }
})
const revokedToken = once(async () => {
  const token = await mint(t.url, t.apiKey, { grants: FULL, expires_in: 600 })
  const res = await call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body: { token } })
  assert.equal(res.status, 200, res.text)
  return token
})
/** A token whose grants do not name the target's route. */
const underScoped = new Map<string, () => Promise<string>>([
  ['tts', once(() => mint(t.url, t.apiKey, { grants: { voices: true } }))],
  ['voices', once(() => mint(t.url, t.apiKey, { grants: { tts: true } }))],
  ['any', once(() => mint(t.url, t.apiKey, { grants: {} }))],
  ['api_key', genuineFull],
])

const cred = (credential: string, headers?: Record<string, string>): Presented => ({
  credential,
  ...(headers && { headers }),
})
const invalid: Expect = { status: 401, code: 'invalid_credentials' }
const okFor = (target: Target): Expect => ({ status: target.okStatus })
const forgery = (name: string): Attack => ({
  name,
  present: async () => cred((await forged())[name]!),
  expect: () => invalid,
})

const ATTACKS: Attack[] = [
  {
    name: 'control: the right genuine credential passes',
    present: async (target) => cred(target.needs === 'api_key' ? t.apiKey : await genuineFull()),
    expect: okFor,
  },
  {
    name: 'control: a token crafted with the server key and valid claims passes',
    present: async (target) => cred(target.needs === 'api_key' ? t.apiKey : await ownSigned(claims())),
    expect: okFor,
  },
  { name: 'no credential', present: async () => ({}), expect: () => ({ status: 401, code: 'missing_credentials' }) },
  { name: 'garbage credential', present: async () => cred('not-a-key-at-all-garbage'), expect: () => invalid },
  { name: 'garbage API key shape', present: async () => cred(`sk_vx_${'A'.repeat(43)}`), expect: () => invalid },
  { name: '9000-char bearer', present: async () => cred('A'.repeat(9000)), expect: () => invalid },
  {
    name: 'headers over 16 KiB in all (Node answers 431)',
    present: async (target) =>
      cred(target.needs === 'api_key' ? t.apiKey : await genuineFull(), { 'x-padding': 'p'.repeat(17 * 1024) }),
    expect: () => ({ status: 431 }),
  },
  forgery('alg none'),
  forgery('HS256 signed with the public key'),
  forgery('unknown kid'),
  forgery('tampered payload'),
  forgery('tampered signature'),
  forgery('garbage'),
  {
    name: 'jwk header injection signed by an attacker key with our kid',
    present: async () => cred(await injected('jwk')()),
    expect: () => invalid,
  },
  {
    name: 'jku header injection signed by an attacker key with our kid',
    present: async () => cred(await injected('jku')()),
    expect: () => invalid,
  },
  {
    name: 'x5u header injection signed by an attacker key with our kid',
    present: async () => cred(await injected('x5u')()),
    expect: () => invalid,
  },
  {
    name: 'expired (server-signed, exp in the past)',
    present: async () => cred(await ownSigned(claims({ iat: nowS() - 700, exp: nowS() - 100 }))),
    expect: () => ({ status: 401, code: 'token_expired' }),
  },
  {
    name: 'nbf in the future',
    present: async () => cred(await ownSigned(claims({ nbf: nowS() + 600 }))),
    expect: () => invalid,
  },
  {
    name: 'wrong issuer',
    present: async () => cred(await ownSigned(claims({ iss: 'not-voxgate' }))),
    expect: () => invalid,
  },
  {
    name: 'wrong audience',
    present: async () => cred(await ownSigned(claims({ aud: 'not-voxgate' }))),
    expect: () => invalid,
  },
  {
    name: 'token from another voxgate instance',
    present: async () => cred(await foreignInstanceToken()),
    expect: () => invalid,
  },
  {
    name: "a revoked key's token",
    present: async () => cred((await revokedKey()).token),
    expect: () => ({ status: 401, code: 'token_revoked' }),
  },
  { name: 'a revoked API key', present: async () => cred((await revokedKey()).key), expect: () => invalid },
  {
    name: 'a revoked token',
    present: async () => cred(await revokedToken()),
    expect: () => ({ status: 401, code: 'token_revoked' }),
  },
  {
    name: 'a token on a route its grants do not name',
    present: async (target) => cred(await underScoped.get(target.needs)!()),
    // `GET /access-token/self` names no grant: any valid token may describe itself.
    expect: (target) =>
      target.needs === 'any'
        ? okFor(target)
        : { status: 403, code: target.needs === 'api_key' ? 'api_key_required' : 'insufficient_scope' },
  },
  {
    // The browser sends `Origin: null` from sandboxed frames and file: pages; it is no origin at all.
    name: 'an origin-bound token presented with Origin: null',
    present: async () =>
      cred(
        await mint(t.url, t.apiKey, {
          grants: FULL,
          expires_in: 600,
          limits: { origins: ['https://app.example.com'] },
        }),
        { origin: 'null' },
      ),
    expect: (target) => (target.needs === 'api_key' ? 'skip' : { status: 403, code: 'origin_not_allowed' }),
  },
  {
    name: "a token of Cartesia's other grants only (stt, agent) on a route they do not name",
    present: async () => cred(await mint(t.url, t.apiKey, { grants: { stt: true, agent: true }, expires_in: 600 })),
    expect: (target) =>
      target.needs === 'api_key'
        ? { status: 403, code: 'api_key_required' }
        : target.needs === 'any'
          ? okFor(target)
          : { status: 403, code: 'insufficient_scope' },
  },
  {
    name: 'a token minting a token',
    present: async () => cred(await genuineFull()),
    expect: (target) => (target.name === 'POST /access-token' ? { status: 403, code: 'api_key_required' } : 'skip'),
  },
]

// ---------------------------------------------------------------- the suite

function remember(p: Presented): void {
  if (p.credential !== undefined) {
    secrets.add(p.credential)
    const sig = p.credential.split('.')[2]
    if (sig && sig.length >= 20) secrets.add(sig)
  }
}

function assertOutcome(out: Outcome, want: { status: number; code?: string }, p: Presented): void {
  assert.equal(out.status, want.status, `status (body: ${out.status < 300 ? '<success>' : out.text.slice(0, 300)})`)
  if (want.code !== undefined) assert.equal(out.code, want.code, out.text.slice(0, 300))
  if (want.status === 401) assert.equal(out.wwwAuthenticate, 'Bearer error="invalid_token"')
  if (want.code === 'insufficient_scope' || want.code === 'api_key_required')
    assert.equal(out.wwwAuthenticate, 'Bearer error="insufficient_scope"')
  if (want.status >= 400 && p.credential && p.credential.length >= 16)
    assert.ok(!out.text.includes(p.credential), 'the credential is never echoed')
}

function runAuthSuite(target: Target): void {
  describe(target.name, () => {
    for (const attack of ATTACKS) {
      const want = attack.expect(target)
      if (want === 'skip') continue
      test(attack.name, async () => {
        const p = await attack.present(target)
        remember(p)
        assertOutcome(await target.send(p), want, p)
      })
    }
  })
}

for (const target of TARGETS) runAuthSuite(target)

test('every target is a route of the route table (attack-suite-routes.test.ts attacks all of them)', async () => {
  const routes = new Set((await routeTableOf(t)).docs.map(routeKey))
  for (const target of TARGETS) {
    const [method, path] = target.name.split(' ') as [string, string]
    assert.ok(routes.has(method === 'WS' ? `GET ${path}` : `${method} ${path}`), target.name)
  }
})

// ---------------------------------------------------------------- through a gateway (issue 19)

describe('through a gateway: attacks on what is relayed', () => {
  let fake: FakeHttpUpstream
  let gw: TestServer
  let tok: string
  before(async () => {
    fake = await FakeHttpUpstream.start()
    gw = await startTestServer({ upstreamUrl: fake.url, upstreamApiKey: 'sk_car_attack_suite_upstream_0123456789' })
    tok = await mint(gw.url, gw.apiKey, {
      grants: FULL,
      limits: { characters: 100 },
      expires_in: 600,
    })
    fake.reset()
  })
  after(async () => {
    await gw.close()
    await fake.close()
  })
  /** A GET with its path as given: fetch would resolve the dot segments before sending. */
  const literalGet = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
      const { hostname, port } = new URL(gw.url)
      const req = https.request({ hostname, port, path, headers: { ...bearer(tok), ...headers } }, (res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: JSON.parse(text).error_code }))
      })
      req.on('error', reject)
      req.end()
    })

  for (const path of ['/voices/..', '/voices/%2e%2e', '/voices/.%2e'])
    test(`${path} never reaches the upstream's root: 404 voice_not_found`, async () => {
      assert.deepEqual(await literalGet(path), { status: 404, code: 'voice_not_found' })
      assert.equal(fake.requests.length, 0)
    })

  test('a Cartesia-Version that is not a date never reaches the upstream or the voices cache: 400 invalid_request', async () => {
    assert.deepEqual(await literalGet('/voices', { 'cartesia-version': 'x/../../admin' }), {
      status: 400,
      code: 'invalid_request',
    })
    assert.equal(fake.requests.length, 0)
  })

  test('tag-shaped prose is counted: 8,000 characters in an unknown tag past a 100-character budget → 429 quota_exceeded, never relayed', async () => {
    const res = await call(gw.url, '/tts/bytes', {
      headers: bearer(tok),
      body: { ...ttsBody('upstream-voice', `<x y="${'p'.repeat(8000)}"/>`), voice: 'upstream-voice' },
    })
    assert.deepEqual([res.status, res.json?.error_code], [429, 'quota_exceeded'])
    assert.equal(fake.requests.length, 0)
  })
})

// ---------------------------------------------------------------- issue 19's cases, against this server

describe('hardening round three: what the outside review found', () => {
  test('a FLAC declaring 655,350 Hz (a decoder bomb: 16 kB that once decoded to 870 MB) → 400 unsupported_audio_format', async () => {
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(flacOf({ rate: 655350, seconds: 10 }))]), 'bomb.flac')
    form.append('model', 'ink-whisper')
    const res = await fetch(`${t.url}/stt`, { method: 'POST', headers: bearer(t.apiKey), body: form })
    const body = (await res.json()) as { error_code?: string }
    assert.deepEqual([res.status, body.error_code], [400, 'unsupported_audio_format'])
  })

  test("the voice changer without an upstream answers a multipart upload (Cartesia's body) 501 not_supported", async () => {
    const form = new FormData()
    form.append('clip', new Blob([new Uint8Array(3200)]), 'clip.wav')
    form.append('voice[id]', voice)
    const res = await fetch(`${t.url}/voice-changer/bytes`, { method: 'POST', headers: bearer(t.apiKey), body: form })
    const body = (await res.json()) as { error_code?: string }
    assert.deepEqual([res.status, body.error_code], [501, 'not_supported'])
  })

  test("an app backend's key (mint, speech) cannot read usage, lift a quota or make a key: 403 insufficient_scope", async () => {
    const app = (await createKey(t.server.ctx.store, 'attack-app', Date.now(), { scopes: ['mint', 'speech'] })).key
    secrets.add(app)
    for (const [method, path, body] of [
      ['GET', '/usage', undefined],
      ['PUT', '/quotas', { sub: 'victim', period: 'day', characters: 1_000_000_000 }],
      ['POST', '/api-keys', { name: 'escalated', scopes: ['admin'] }],
      ['POST', '/access-token/revoke', { sub: 'someone-else', issued_before: Math.floor(Date.now() / 1000) }],
    ] as const) {
      const res = await call(t.url, path, { method, headers: bearer(app), ...(body && { body }) })
      assert.deepEqual([res.status, res.json?.error_code], [403, 'insufficient_scope'], `${method} ${path}`)
    }
  })
})

describe('through a gateway: a relayed socket message with a key twice', () => {
  const VOICE = 'upstream-voice-1'
  let fake: FakeUpstream
  let gw: TestServer
  before(async () => {
    fake = await FakeUpstream.start()
    gw = await startTestServer({ upstreamUrl: fake.url, upstreamApiKey: 'sk_car_attack_suite_ws_upstream_0123456789' })
  })
  after(async () => {
    await gw.close()
    await fake.close()
  })

  test('JSON.parse keeps the last "voice", another reader the first: refused naming the key, never relayed', async () => {
    const tok = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600, limits: { voices: [VOICE] } })
    secrets.add(tok)
    const s = await WsSession.open(wsUrl(gw.url), bearer(tok))
    try {
      const conn = fake.connections.at(-1)!
      s.ws.send(
        `{"model_id":"sonic-3","voice":"any-other-voice","transcript":"Hi.","context_id":"d1","voice":"${VOICE}","output_format":{"container":"raw","encoding":"pcm_s16le","sample_rate":16000}}`,
      )
      const end = await s.end('d1')
      assert.equal(end.error_code, 'invalid_request')
      assert.match(end.message, /"voice" twice/)
      assert.deepEqual(conn.messages, [])
    } finally {
      s.close()
    }
  })
})

describe('after every attack', () => {
  test('the server still answers', async () => {
    assert.equal((await call(t.url, '/')).status, 200)
  })

  test('the logs contain none of the tokens or keys presented', () => {
    secrets.add(t.apiKey)
    const logs = t.logs.text()
    assert.ok(logs.length > 0, 'the server logged something')
    const leaked = [...secrets].filter((s) => s.length >= 16 && logs.includes(s))
    assert.deepEqual(
      leaked.map((s) => `${s.slice(0, 24)}…`),
      [],
    )
  })
})
