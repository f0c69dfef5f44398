/**
 * The usage ledger answers "how much did each end-user and key use, by day": characters synthesized
 * on every transport (bytes, SSE, WebSocket with `continue`), seconds of audio produced, streams; it
 * survives a restart; `GET /usage` (API key only) and `voxgate usage` report it the same way.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { bearer, call, mint } from '../helpers/http.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { eventually } from '../helpers/controlled-speech.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/voxgate.mjs')
const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-usage-'))
let t: TestServer
let voice: string
const today = new Date().toISOString().slice(0, 10)

before(async () => {
  t = await startTestServer({ dataDir })
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
  const forSub = (sub: string) => mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600, sub })
  // ann: bytes "Hello there." (12 characters, 2 words) and a WebSocket context fed in two pieces
  // "Hi " + "you." (7 characters, 2 words); ben: SSE "One two." (8, 2 words); the key itself: "Key." (4, 1 word).
  const ann = await forSub('ann')
  assert.equal(
    (await call(t.url, '/tts/bytes', { headers: bearer(ann), body: ttsBody(voice, 'Hello there.') })).status,
    200,
  )
  const inbox = await openInbox(t.url, { query: `?access_token=${ann}` })
  inbox.send({ ...ttsBody(voice, 'Hi '), context_id: 'c', continue: true })
  inbox.send({ ...ttsBody(voice, 'you.'), context_id: 'c' })
  assert.equal((await inbox.terminal('c')).type, 'done')
  closeQuietly(inbox.ws)
  assert.equal(
    (await call(t.url, '/tts/sse', { headers: bearer(await forSub('ben')), body: ttsBody(voice, 'One two.') })).status,
    200,
  )
  assert.equal(
    (await call(t.url, '/tts/bytes', { headers: bearer(t.apiKey), body: ttsBody(voice, 'Key.') })).status,
    200,
  )
})
after(async () => {
  await t.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const usage = (query: string, credential = t.apiKey) => call(t.url, `/usage${query}`, { headers: bearer(credential) })
const bySub = (data: { sub: string | null; characters: number; audio_seconds_produced: number; streams: number }[]) =>
  Object.fromEntries(data.map((r) => [r.sub ?? '(none)', [r.characters, r.audio_seconds_produced, r.streams]]))

describe('the usage ledger', () => {
  test('GET /usage by sub: the characters sent on each transport, audio produced, streams', async () => {
    await eventually(async () => (await usage('?group_by=sub')).json.totals.streams === 4, 'every stream settled')
    const res = await usage('?group_by=sub')
    assert.equal(res.status, 200)
    // The deterministic engine speaks 60 ms a word.
    assert.deepEqual(bySub(res.json.data), { '(none)': [4, 0.06, 1], ann: [19, 0.24, 2], ben: [8, 0.12, 1] })
    assert.deepEqual(res.json.totals, {
      characters: 31,
      audio_seconds_produced: 0.42,
      audio_seconds_transcribed: 0,
      audio_seconds_voice_changed: 0,
      characters_fallback: 0,
      characters_cached: 0,
      streams: 4,
      refused: {},
    })
    assert.equal(res.json.to, today)
  })

  test('streams refused for a known credential are counted by reason, not as streams or characters', async () => {
    const [other] = (await voiceIds(t.url, t.apiKey, 2)).filter((v) => v !== voice) as [string]
    const cara = await mint(t.url, t.apiKey, {
      grants: { tts: true },
      expires_in: 600,
      sub: 'cara',
      limits: { characters: 5, voices: [voice] },
    })
    assert.equal(
      (await call(t.url, '/tts/bytes', { headers: bearer(cara), body: ttsBody(voice, 'Far too long for five.') })).json
        .error_code,
      'quota_exceeded',
    )
    assert.equal(
      (await call(t.url, '/tts/sse', { headers: bearer(cara), body: ttsBody(other, 'Hi.') })).json.error_code,
      'voice_not_allowed',
    )
    const bound = await mint(t.url, t.apiKey, {
      grants: { tts: true },
      expires_in: 600,
      sub: 'cara',
      limits: { origins: ['https://app.example.com'] },
    })
    const wrongOrigin = await call(t.url, '/tts/bytes', {
      headers: { ...bearer(bound), origin: 'https://evil.example' },
      body: ttsBody(voice, 'Hi.'),
    })
    assert.equal(wrongOrigin.json.error_code, 'origin_not_allowed')
    const inbox = await openInbox(t.url, { query: `?access_token=${cara}` })
    inbox.send({ ...ttsBody(voice, 'Also far too long.'), context_id: 'x' })
    assert.equal((await inbox.terminal('x')).error_code, 'quota_exceeded')
    closeQuietly(inbox.ws)
    await eventually(
      async () => (await usage('?sub=cara')).json.totals.refused.quota_exceeded === 2,
      'refusals counted',
    )
    const row = (await usage('?sub=cara&group_by=sub')).json.data[0]
    assert.deepEqual(row, {
      sub: 'cara',
      characters: 0,
      audio_seconds_produced: 0,
      audio_seconds_transcribed: 0,
      audio_seconds_voice_changed: 0,
      characters_fallback: 0,
      characters_cached: 0,
      streams: 0,
      refused: { quota_exceeded: 2, voice_not_allowed: 1, origin_not_allowed: 1 },
    })
  })

  test('grouping and filters: day, key, day+sub, one sub, one key', async () => {
    const byDay = await usage(`?from=${today}&to=${today}&group_by=day`)
    assert.deepEqual(
      byDay.json.data.map((r: { day: string; characters: number }) => [r.day, r.characters]),
      [[today, 31]],
    )
    const byKey = await usage('?group_by=key')
    assert.deepEqual(
      byKey.json.data.map((r: { key_id: string; characters: number }) => [r.key_id, r.characters]),
      [[t.apiKeyId, 31]],
    )
    const both = await usage('?group_by=day,sub')
    assert.deepEqual(
      both.json.data.map((r: { day: string; sub: string | null }) => [r.day, r.sub]),
      [
        [today, null],
        [today, 'ann'],
        [today, 'ben'],
        [today, 'cara'],
      ],
    )
    assert.equal((await usage('?sub=ann')).json.totals.characters, 19)
    assert.equal((await usage('?key_id=key_nobody')).json.totals.characters, 0)
  })

  test('API keys only, and bad parameters are 400 naming the field', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true } })
    const refused = await usage('', token)
    assert.equal(refused.status, 403)
    assert.equal(refused.json.error_code, 'api_key_required')
    for (const [query, field] of [
      ['?group_by=week', 'group_by'],
      ['?from=2026-13-40', 'from'],
      ['?to=yesterday', 'to'],
      ['?from=2026-11-02&to=2026-11-01', 'from'],
      ['?from=2024-01-01&to=2026-01-01', 'days'],
      ['?colour=red', 'colour'],
    ]) {
      const res = await usage(query!)
      assert.equal(res.status, 400, query)
      assert.equal(res.json.error_code, 'invalid_request')
      assert.ok(res.json.message.includes(field!), `${query}: ${res.json.message}`)
    }
  })

  test('survives a restart, and `voxgate usage` prints the same', async () => {
    const before = (await usage('?group_by=sub')).json
    await t.close({ keepData: true })
    t = await startTestServer({ dataDir })
    assert.deepEqual((await usage('?group_by=sub')).json, before)
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, 'usage', '--data', dataDir, ...args], { encoding: 'utf8' })
    const json = cli('--group-by', 'sub', '--json')
    assert.equal(json.status, 0, json.stderr)
    assert.deepEqual(JSON.parse(json.stdout), before)
    const text = cli('--group-by', 'sub')
    assert.equal(text.status, 0, text.stderr)
    const lines = text.stdout.trim().split('\n')
    assert.match(
      lines[1]!,
      /^sub\s+characters\s+chars_fallback\s+chars_cached\s+audio_s_out\s+audio_s_in\s+audio_s_vc\s+streams\s+refused$/,
    )
    assert.match(lines.find((l) => l.startsWith('ann'))!, /^ann\s+19\s+0\s+0\s+0\.24\s+0\s+0\s+2\s+0$/)
    assert.match(lines.find((l) => l.startsWith('cara'))!, /^cara\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s+4$/)
    assert.match(lines.at(-1)!, /^total\s+31\s+0\s+0\s+0\.42\s+0\s+0\s+4\s+4$/)
    const bad = cli('--group-by', 'week')
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /^voxgate: --group-by must be/)
  })
})
