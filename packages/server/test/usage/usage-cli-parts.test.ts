/**
 * `voxgate usage` shows the two parts of `characters` that gateway mode adds (issue 25, item 3):
 * `chars_fallback` (spoken by the local fallback) and `chars_cached` (sent from the TTS cache), read
 * from a real gateway's ledger after a real fallback and a real cache hit, the same figures as `GET /usage`.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { eventually } from '../helpers/controlled-speech.ts'
import { answerError, FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/voxgate.mjs')
const FALLBACK_TEXT = 'Spoken here instead.'
const CACHED_TEXT = 'Welcome back.'
let fake: FakeHttpUpstream
let gw: TestServer

const body = (transcript: string) => ({
  model_id: 'sonic-3',
  transcript,
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
})

async function speak(sub: string, transcript: string) {
  const token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60, sub })
  const res = await rawRequest(gw.url, '/tts/bytes', {
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify(body(transcript)),
  })
  assert.equal(res.status, 200)
  return res.headers
}

before(async () => {
  fake = await FakeHttpUpstream.start()
  gw = await startTestServer({
    upstreamUrl: fake.url,
    upstreamApiKey: 'sk_car_upstream-secret-0123456789abcdef',
    upstreamFailureThreshold: 1000,
    fallback: 'local',
    ttsCacheMb: 8,
  })
  fake.handler = answerError(500, 'internal', 'boom')
  assert.equal((await speak('fb', FALLBACK_TEXT))['x-voxgate-fallback'], 'local')
  fake.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.end(Buffer.alloc(3200, 1))
  }
  assert.equal((await speak('hit', CACHED_TEXT))['x-voxgate-cache'], undefined)
  assert.equal((await speak('hit', CACHED_TEXT))['x-voxgate-cache'], 'hit')
})
after(async () => {
  await gw.close()
  await fake.close()
})

test('the text table has chars_fallback and chars_cached, as GET /usage counts them', async () => {
  const usage = async () => (await call(gw.url, '/usage?group_by=sub', { headers: bearer(gw.apiKey) })).json
  await eventually(async () => (await usage()).totals.streams === 3, 'every stream settled')
  const figures = (await usage()).data.map((r: any) => [
    r.sub,
    r.characters,
    r.characters_fallback,
    r.characters_cached,
  ])
  const f = FALLBACK_TEXT.length
  const c = CACHED_TEXT.length
  assert.deepEqual(figures, [
    ['fb', f, f, 0],
    ['hit', 2 * c, 0, c],
  ])
  const cli = spawnSync(process.execPath, [BIN, 'usage', '--data', gw.dataDir, '--group-by', 'sub'], {
    encoding: 'utf8',
  })
  assert.equal(cli.status, 0, cli.stderr)
  const lines = cli.stdout.trim().split('\n')
  assert.match(lines[1]!, /^sub\s+characters\s+chars_fallback\s+chars_cached\s+audio_s_out\s+/)
  const cells = (sub: string) =>
    lines
      .find((l) => l.startsWith(`${sub} `))!
      .trim()
      .split(/\s+/)
      .slice(0, 4)
  assert.deepEqual(cells('fb'), ['fb', String(f), String(f), '0'])
  assert.deepEqual(cells('hit'), ['hit', String(2 * c), '0', String(c)])
  assert.deepEqual(cells('total'), ['total', String(f + 2 * c), String(f), String(c)])
})
