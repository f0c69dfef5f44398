/**
 * Property tests of untrusted input: arbitrary JSON, arbitrary strings and mutations of valid bodies
 * to the JSON routes, and arbitrary WebSocket messages. Never a 5xx (nor an `internal_error` event),
 * never a crash, and heap growth stays bounded.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import v8 from 'node:v8'
import vm from 'node:vm'
import fc from 'fast-check'
import { isErrorCode } from '@voxgate/protocol'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint, type ApiResponse } from '../helpers/http.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds, type Inbox } from '../helpers/security.ts'

const RUNS = 200
let t: TestServer
let voice: string
let token: string
let gc: () => void

before(async () => {
  v8.setFlagsFromString('--expose-gc')
  gc = vm.runInNewContext('gc') as () => void
  t = await startTestServer()
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
  token = await mint(t.url, t.apiKey, { grants: { tts: true, voices: true }, expires_in: 3600 })
})
after(() => t.close())

// ---------------------------------------------------------------- arbitraries

type Json = unknown
type Mutation = { path: string[]; op: 'set' | 'delete'; value: Json }

/** Own, enumerable properties only: `__proto__` becomes a real key in the JSON, never this realm's prototype. */
const own = (node: Record<string, Json>, key: string, value: Json): void =>
  void Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true })

/** Applies mutations to a deep copy of `body` at their paths (creating objects along the way). */
function mutate(body: Record<string, Json>, mutations: Mutation[]): Json {
  const copy = structuredClone(body) as Record<string, Json>
  for (const m of mutations) {
    let node: Record<string, Json> = copy
    for (const key of m.path.slice(0, -1)) {
      const next = Object.hasOwn(node, key) ? node[key] : undefined
      if (typeof next !== 'object' || next === null || Array.isArray(next)) own(node, key, {})
      node = Object.getOwnPropertyDescriptor(node, key)!.value as Record<string, Json>
    }
    const last = m.path.at(-1)!
    if (m.op === 'delete') delete node[last]
    else own(node, last, m.value)
  }
  return copy
}

const mutations = (paths: string[][]) =>
  fc.array(
    fc.record({
      path: fc.constantFrom(...paths),
      op: fc.constantFrom('set' as const, 'delete' as const),
      value: fc.oneof(
        fc.jsonValue(),
        fc.string({ maxLength: 300 }),
        fc.integer(),
        fc.double(),
        fc.constant(null),
        fc.constant(''),
        fc.constant(-1),
        fc.constant(1e308),
      ),
    }),
    { minLength: 1, maxLength: 4 },
  )

const TTS_PATHS = [
  ['model_id'],
  ['transcript'],
  ['voice'],
  ['voice', 'id'],
  ['voice', 'mode'],
  ['output_format'],
  ['output_format', 'container'],
  ['output_format', 'encoding'],
  ['output_format', 'sample_rate'],
  ['output_format', 'bit_rate'],
  ['language'],
  ['speed'],
  ['generation_config', 'speed'],
  ['generation_config', 'volume'],
  ['context_id'],
  ['add_timestamps'],
  ['duration'],
  ['__proto__'],
  ['constructor'],
  ['__proto__', 'polluted'],
]
const MINT_PATHS = [
  ['grants'],
  ['grants', 'tts'],
  ['grants', 'voices'],
  ['grants', 'admin'],
  ['expires_in'],
  ['sub'],
  ['limits'],
  ['limits', 'characters'],
  ['limits', 'concurrent_streams'],
  ['limits', 'voices'],
  ['limits', 'origins'],
  ['__proto__'],
  ['__proto__', 'polluted'],
]

/** A request body: arbitrary JSON text, an arbitrary string, or a mutated valid body. */
const bodyOf = (valid: Record<string, Json>, paths: string[][]) =>
  fc.oneof(
    fc.json().map((s) => ({ raw: s })),
    fc.string({ maxLength: 200 }).map((s) => ({ raw: s })),
    mutations(paths).map((m) => ({ raw: JSON.stringify(mutate(valid, m)) })),
  )

// ---------------------------------------------------------------- checks

function assertNot5xx(res: ApiResponse): void {
  assert.ok(res.status < 500, `${res.status} ${res.text.slice(0, 300)}`)
  if (res.status >= 400) {
    assert.ok(isErrorCode(res.json?.error_code), `an error in the catalogue: ${res.text.slice(0, 200)}`)
    assert.equal(res.json.error_code === 'internal_error', false)
  }
}

function assertNoServerErrorEvents(text: string): void {
  assert.ok(!/"error_code":"internal_error"/.test(text), `an internal_error event: ${text.slice(0, 300)}`)
}

const post = (path: string, credential: string, raw: string) =>
  call(t.url, path, { headers: { ...bearer(credential), 'content-type': 'application/json' }, body: raw })

function heapMb(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed / 1024 / 1024
}

let heapBefore = 0

describe('HTTP bodies', () => {
  before(() => {
    heapBefore = heapMb()
  })

  test('POST /access-token: arbitrary and mutated bodies never get a 5xx', async () => {
    const valid = {
      grants: { tts: true },
      expires_in: 60,
      sub: 'fuzz',
      limits: { characters: 100, voices: [voice], origins: ['https://app.example'], concurrent_streams: 2 },
    }
    await fc.assert(
      fc.asyncProperty(bodyOf(valid, MINT_PATHS), async ({ raw }) => {
        const res = await post('/access-token', t.apiKey, raw)
        assertNot5xx(res)
        assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
      }),
      { numRuns: RUNS },
    )
  })

  for (const path of ['/tts/bytes', '/tts/sse']) {
    test(`POST ${path}: arbitrary and mutated bodies never get a 5xx nor an internal_error event`, async () => {
      const valid = ttsBody(voice, 'Fuzzing is fun.')
      await fc.assert(
        fc.asyncProperty(bodyOf(valid, TTS_PATHS), fc.boolean(), async ({ raw }, useToken) => {
          const res = await post(path, useToken ? token : t.apiKey, raw)
          assertNot5xx(res)
          assertNoServerErrorEvents(res.text)
          assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
        }),
        { numRuns: RUNS },
      )
    })
  }
})

describe('WebSocket messages', () => {
  let inbox: Inbox
  before(async () => {
    inbox = await openInbox(t.url, { query: `?access_token=${token}` })
  })
  after(() => closeQuietly(inbox.ws))

  const valid = { ...ttsBody(voice, 'Socket fuzz.'), context_id: 'fuzz', continue: false }
  const message = fc.oneof(
    fc.json().map((s) => ({ text: s })),
    fc.string({ maxLength: 300 }).map((s) => ({ text: s })),
    fc.string({ unit: 'grapheme', maxLength: 100 }).map((s) => ({ text: s })),
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ binary: b })),
    mutations([
      ...TTS_PATHS,
      ['continue'],
      ['flush'],
      ['cancel'],
      ['type'],
      ['access_token'],
      ['max_buffer_delay_ms'],
    ]).map((m) => ({ text: JSON.stringify(mutate(valid, m)) })),
    fc
      .constantFrom(
        '{"type":"refresh_token","access_token":"eyJ.eyJ.x"}',
        '{"cancel":true}',
        '{"context_id":"fuzz","cancel":true}',
        'null',
        '[]',
        '""',
        '{"context_id":{}}',
      )
      .map((s) => ({ text: s })),
  )

  test('arbitrary messages: never an internal_error event, the socket stays open and keeps answering', async () => {
    let n = 0
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const from = inbox.messages.length
        if ('binary' in m) inbox.ws.send(m.binary, { binary: true })
        else inbox.ws.send(m.text)
        // A sentinel context proves the message was handled and the socket still serves.
        const sentinel = `sentinel-${n++}`
        inbox.send({ ...ttsBody(voice, 'Ok.'), context_id: sentinel })
        const end = await inbox.terminal(sentinel, 5000)
        assert.ok(end.type === 'done' || (end.type === 'error' && end.status_code < 500), JSON.stringify(end))
        const since = inbox.messages.slice(from)
        const bad = since.filter((e) => e.type === 'error' && (e.status_code >= 500 || !isErrorCode(e.error_code)))
        assert.deepEqual(bad, [])
        assert.equal(inbox.closeInfo, undefined, 'the socket is still open')
      }),
      { numRuns: RUNS },
    )
  })
})

describe('after the fuzzing', () => {
  test('the server still answers GET / and a real request', async () => {
    assert.deepEqual((await call(t.url, '/')).json?.ok, true)
    assert.equal((await post('/tts/bytes', token, JSON.stringify(ttsBody(voice, 'Still alive.')))).status, 200)
  })

  test('heap growth is bounded (< 64 MB after GC)', () => {
    const growth = heapMb() - heapBefore
    assert.ok(growth < 64, `heap grew by ${growth.toFixed(1)} MB`)
  })
})
