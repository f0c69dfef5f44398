/**
 * The official @cartesia/cartesia-js v4 over HTTP (bytes, SSE, voices) through a gateway whose
 * upstream is a second voxgate with its own key (a real Cartesia-compatible API): a gateway token
 * gets the same audio as the upstream's own key straight to the upstream, and the gateway counts
 * the characters as local speech does.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { bearer, call, mint } from '../helpers/http.ts'
import { voiceIds } from '../helpers/security.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const require = createRequire(import.meta.url)
const { Cartesia } = require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js')
type Client = InstanceType<typeof Cartesia>

const TEXT = 'A gateway token speaks with the upstream voices, and never sees its key.'
let upstream: TestServer
let gw: TestServer
let voice: string
let direct: Client
let relayed: Client

before(async () => {
  upstream = await startTestServer()
  gw = await startTestServer({ upstreamUrl: upstream.url, upstreamApiKey: upstream.apiKey })
  ;[voice] = (await voiceIds(upstream.url, upstream.apiKey, 1)) as [string]
  direct = new Cartesia({ apiKey: upstream.apiKey, baseURL: upstream.url })
  const token = await mint(gw.url, gw.apiKey, {
    grants: { tts: true, voices: true },
    sub: 'alice',
    limits: { voices: [voice], characters: 10_000 },
    expires_in: 600,
  })
  relayed = new Cartesia({ token, baseURL: gw.url })
})
after(async () => {
  await gw.close()
  await upstream.close()
  for (const text of [gw.logs.text(), upstream.logs.text()])
    assert.ok(!text.includes(upstream.apiKey), 'the upstream key was logged')
})

async function bytes(client: Client, format: object): Promise<Buffer> {
  const res = await client.tts.generate({
    model_id: 'sonic-3',
    transcript: TEXT,
    voice: { mode: 'id', id: voice },
    output_format: format,
  } as never)
  return Buffer.from(await res.arrayBuffer())
}

async function sse(client: Client): Promise<{ audio: Buffer; types: string[] }> {
  const stream = await client.tts.generateSSE({
    model_id: 'sonic-3',
    transcript: TEXT,
    voice,
    context_id: 'sse-1',
    output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  } as never)
  const types: string[] = []
  const audio: Buffer[] = []
  for await (const event of stream as AsyncIterable<any>) {
    types.push(event.type)
    assert.equal(event.context_id, 'sse-1')
    if (event.type === 'chunk') audio.push(Buffer.from(event.data, 'base64'))
  }
  return { audio: Buffer.concat(audio), types }
}

describe('@cartesia/cartesia-js through a gateway (HTTP)', () => {
  for (const format of [
    { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
    { container: 'wav', encoding: 'pcm_f32le', sample_rate: 24000 },
    { container: 'mp3', sample_rate: 44100, bit_rate: 128000 },
  ]) {
    test(`tts.generate ${format.container}: the same audio as straight to the upstream`, async () => {
      const [viaGateway, straight] = await Promise.all([bytes(relayed, format), bytes(direct, format)])
      assert.ok(straight.length > 1000)
      assert.deepEqual(viaGateway, straight)
    })
  }

  test('tts.generateSSE: the same chunks and done as straight to the upstream', async () => {
    const [viaGateway, straight] = await Promise.all([sse(relayed), sse(direct)])
    assert.equal(viaGateway.types.at(-1), 'done')
    assert.deepEqual(viaGateway.types, straight.types)
    assert.ok(straight.audio.length > 1000, 'it spoke')
    assert.deepEqual(viaGateway.audio, straight.audio)
  })

  test('voices.list and voices.get: the upstream catalogue', async () => {
    const [page, upstreamPage] = await Promise.all([
      relayed.voices.list({ limit: 3 } as never),
      direct.voices.list({ limit: 3 } as never),
    ])
    assert.deepEqual(
      page.data.map((v: any) => v.id),
      upstreamPage.data.map((v: any) => v.id),
    )
    const one = await relayed.voices.get(voice)
    assert.equal((one as { id: string }).id, voice)
  })

  test("a voice outside the token's limits.voices is refused by the gateway (403 voice_not_allowed)", async () => {
    const [, other] = (await voiceIds(upstream.url, upstream.apiKey, 2)) as [string, string]
    await assert.rejects(
      relayed.tts.generate({
        model_id: 'sonic-3',
        transcript: TEXT,
        voice: other,
        output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
      } as never),
      (err: any) => err.status === 403 && err.error?.error_code === 'voice_not_allowed',
    )
  })

  test('the characters and audio relayed are counted on the gateway token and in the ledger, per sub, as for local speech', async () => {
    const token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, sub: 'bob', expires_in: 60 })
    const client = new Cartesia({ token, baseURL: gw.url })
    const raw = await bytes(client, { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 })
    const events = await sse(client)
    const self = await call(gw.url, '/access-token/self', { headers: bearer(token) })
    assert.equal(self.json.usage.characters, 2 * [...TEXT].length)
    // The ledger row: both streams, their characters, and the audio relayed (sized from the PCM bytes).
    const row = async () =>
      (await call(gw.url, '/usage?sub=bob&group_by=sub', { headers: bearer(gw.apiKey) })).json.totals
    await eventually(async () => (await row()).streams === 2, 'both streams settled')
    const totals = await row()
    assert.equal(totals.characters, 2 * [...TEXT].length)
    const seconds = (raw.length + events.audio.length) / 32000
    assert.ok(
      Math.abs(totals.audio_seconds_produced - seconds) <= 0.1,
      `${totals.audio_seconds_produced} s produced, ${seconds} s relayed`,
    )
  })

  test('without an upstream, the voice changer is 501 not_supported (after the grant check)', async () => {
    const changer = await mint(upstream.url, upstream.apiKey, { grants: { voice_changer: true }, expires_in: 60 })
    for (const path of ['/voice-changer/bytes', '/voice-changer/sse']) {
      const res = await call(upstream.url, path, { headers: bearer(changer), body: {} })
      assert.equal(res.status, 501)
      assert.equal(res.json.error_code, 'not_supported')
    }
    const ttsOnly = await mint(upstream.url, upstream.apiKey, { grants: { tts: true }, expires_in: 60 })
    assert.equal((await call(upstream.url, '/voice-changer/bytes', { headers: bearer(ttsOnly), body: {} })).status, 403)
  })

  test('without an upstream, the voice changer is 501 not_supported whatever the body: multipart, audio, none', async () => {
    const changer = await mint(upstream.url, upstream.apiKey, { grants: { voice_changer: true }, expires_in: 60 })
    const form = () => {
      const f = new FormData()
      f.append('voice[id]', 'any-voice')
      f.append('output_format[container]', 'wav')
      f.append('clip', new Blob([new Uint8Array(4096)], { type: 'audio/wav' }), 'clip.wav')
      return f
    }
    const bodies: [string, () => RequestInit][] = [
      ['multipart', () => ({ body: form() })],
      ['audio/wav', () => ({ body: new Uint8Array(4096), headers: { 'content-type': 'audio/wav' } })],
      ['no body', () => ({})],
    ]
    for (const path of ['/voice-changer/bytes', '/voice-changer/sse']) {
      for (const [what, init] of bodies) {
        const { body, headers } = init()
        const res = await fetch(upstream.url + path, {
          method: 'POST',
          body,
          headers: { ...bearer(changer), ...(headers as Record<string, string>) },
        })
        assert.equal(res.status, 501, `${path}, ${what}`)
        assert.equal(((await res.json()) as { error_code: string }).error_code, 'not_supported', `${path}, ${what}`)
      }
    }
  })
})
