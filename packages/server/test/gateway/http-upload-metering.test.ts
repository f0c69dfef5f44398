/**
 * Gateway mode meters relayed uploads as local uploads are metered: the audio of an STT upload or a
 * voice-changer clip is measured (from its header, or by decoding it) and reserved from the token's
 * `audio_seconds` and the quotas before the upstream sees a byte; the voice changer's answer is
 * measured from what the upstream sends, and its output format must be one voxgate can measure.
 * Against the recording fake upstream of fake-gateway.ts.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { loadSpeex } from '../../src/tts/resample.ts'
import { decodeAudioFile } from '../../src/stt/audio-file.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { answers, fake, gw, useFakeGateway } from './fake-gateway.ts'
import { MP3_FRAME_MS, mp3Frames, mulawWav, streamedWav } from './upload-audio.ts'

useFakeGateway()

const upload = async (path: string, credential: string, body: FormData) => {
  const res = await fetch(gw.url + path, { method: 'POST', headers: bearer(credential), body })
  const bytes = Buffer.from(await res.arrayBuffer())
  answers.push(bytes.toString('latin1'))
  return { status: res.status, json: () => JSON.parse(bytes.toString()) }
}

const sttForm = (file: Buffer) => {
  const f = new FormData()
  f.append('model', 'ink-whisper')
  f.append('file', new Blob([new Uint8Array(file)]), 'a.wav')
  return f
}

const changerForm = (clip: Buffer, format: Record<string, string> = RAW_16K) => {
  const f = new FormData()
  f.append('voice[id]', 'upstream-voice')
  for (const [name, value] of Object.entries(format)) f.append(`output_format[${name}]`, value)
  f.append('clip', new Blob([new Uint8Array(clip)]), 'clip.wav')
  return f
}
const RAW_16K = { container: 'raw', encoding: 'pcm_s16le', sample_rate: '16000' }

const selfUsage = async (token: string): Promise<number> =>
  (await call(gw.url, '/access-token/self', { headers: bearer(token) })).json.usage.audio_seconds
const ledger = async (sub: string) =>
  (await call(gw.url, `/usage?sub=${sub}&group_by=sub`, { headers: bearer(gw.apiKey) })).json.totals

/**
 * Sends `count` uploads at once; the fake upstream holds every answer until each upload has either
 * reached it or been refused, so that none is settled before the others are checked.
 */
async function inParallel(count: number, send: () => ReturnType<typeof upload>, answer: (res: ServerResponse) => void) {
  const held: ServerResponse[] = []
  fake.handler = (_req, res) => held.push(res)
  let refused = 0
  const runs = Array.from({ length: count }, () =>
    send().then((r) => {
      if (r.status !== 200) refused++
      return r
    }),
  )
  await eventually(() => held.length + refused === count, 'every upload relayed or refused')
  for (const res of held) answer(res)
  return Promise.all(runs)
}

describe('gateway upload relays: audio reserved before the upstream sees a byte', () => {
  test('three parallel 10 s STT uploads on a 15 s token: one relayed, two refused 429; token and ledger agree on 10 s', async () => {
    const listener = await mint(gw.url, gw.apiKey, {
      grants: { stt: true },
      sub: 'stt-parallel',
      limits: { audio_seconds: 15 },
      expires_in: 60,
    })
    // The upstream says 0.5 s: voxgate charges what it measured, not what the upstream says.
    const transcript = JSON.stringify({ type: 'transcript', text: 'hi', duration: 0.5, language: 'en' })
    const results = await inParallel(
      3,
      () => upload('/stt', listener, sttForm(mulawWav(10))),
      (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(transcript),
    )
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 429, 429])
    for (const r of results.filter((r) => r.status === 429)) assert.equal(r.json().error_code, 'quota_exceeded')
    assert.equal(fake.requests.length, 1)
    assert.equal(await selfUsage(listener), 10)
    await eventually(async () => (await ledger('stt-parallel')).audio_seconds_transcribed === 10, 'ledger: 10 s')
    assert.equal((await ledger('stt-parallel')).streams, 1)
  })

  test("three parallel 10 s STT uploads under a sub's 15 s audio quota: one relayed; quota used and ledger agree", async () => {
    const asKey = { headers: bearer(gw.apiKey) }
    const quota = (
      await call(gw.url, '/quotas', {
        ...asKey,
        method: 'PUT',
        body: { sub: 'stt-quota', period: 'day', audio_seconds: 15 },
      })
    ).json
    await eventually(() => gw.server.ctx.quotas.book.size > 0, 'the quota is loaded')
    const listener = await mint(gw.url, gw.apiKey, { grants: { stt: true }, sub: 'stt-quota', expires_in: 60 })
    const results = await inParallel(
      3,
      () => upload('/stt', listener, sttForm(mulawWav(10))),
      (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"duration":0.5}'),
    )
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 429, 429])
    assert.equal(fake.requests.length, 1)
    const used = async () => (await call(gw.url, `/quotas/${quota.id}`, asKey)).json.used.audio_seconds
    await eventually(async () => (await ledger('stt-quota')).audio_seconds_transcribed === 10, 'ledger: 10 s')
    assert.equal(await used(), 10)
  })

  test('an STT upload longer than what is left of audio_seconds is refused whole (429), never relayed', async () => {
    const listener = await mint(gw.url, gw.apiKey, {
      grants: { stt: true },
      limits: { audio_seconds: 1 },
      expires_in: 60,
    })
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"duration":1}')
    const res = await upload('/stt', listener, sttForm(mulawWav(1.001)))
    assert.equal(res.status, 429)
    assert.equal(res.json().error_code, 'quota_exceeded')
    assert.equal(fake.requests.length, 0)
    assert.equal(await selfUsage(listener), 0)
    // One that fits exactly passes.
    assert.equal((await upload('/stt', listener, sttForm(mulawWav(1)))).status, 200)
    assert.equal(await selfUsage(listener), 1)
  })

  test('a compressed STT upload (MP3) is measured by the local decoder: its decoded duration reserved and charged', async () => {
    const mp3 = readFileSync(new URL('../stt/fixtures/speech.mp3', import.meta.url))
    const decoded = await decodeAudioFile({ bytes: mp3, raw: undefined, maxSeconds: 1200, speex: await loadSpeex() })
    const ms = Math.ceil(decoded.seconds * 1000)
    const short = await mint(gw.url, gw.apiKey, { grants: { stt: true }, limits: { audio_seconds: 2 }, expires_in: 60 })
    const refused = await upload('/stt', short, sttForm(mp3))
    assert.equal(refused.status, 429)
    assert.equal(fake.requests.length, 0)
    const listener = await mint(gw.url, gw.apiKey, {
      grants: { stt: true },
      limits: { audio_seconds: 60 },
      expires_in: 60,
    })
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"duration":0}')
    assert.equal((await upload('/stt', listener, sttForm(mp3))).status, 200)
    assert.equal(await selfUsage(listener), ms / 1000)
  })

  test('the form: one file only, at most 16 fields of at most 1,024 bytes (413 one past each), never relayed', async () => {
    const listener = await mint(gw.url, gw.apiKey, { grants: { stt: true }, expires_in: 60 })
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    const withFields = (count: number, bytes = 8) => {
      const f = sttForm(mulawWav(0.1))
      for (let i = 1; i < count; i++) f.append(`extra_${i}`, 'x'.repeat(bytes))
      return f
    }
    assert.equal((await upload('/stt', listener, withFields(16))).status, 200)
    assert.equal((await upload('/stt', listener, withFields(2, 1024))).status, 200)
    assert.equal(fake.requests.length, 2)
    const seventeen = await upload('/stt', listener, withFields(17))
    const long = await upload('/stt', listener, withFields(2, 1025))
    const twoFiles = sttForm(mulawWav(0.1))
    twoFiles.append('file', new Blob([new Uint8Array(mulawWav(1))]), 'b.wav')
    const second = await upload('/stt', listener, twoFiles)
    assert.deepEqual(
      [seventeen, long, second].map((r) => [r.status, r.json().error_code]),
      [
        [413, 'payload_too_large'],
        [413, 'payload_too_large'],
        [400, 'invalid_request'],
      ],
    )
    assert.equal(fake.requests.length, 2)
  })

  test('a body that is not multipart (JSON, none, no Content-Type) → 415 at once, never relayed', {
    timeout: 20_000,
  }, async () => {
    const listener = await mint(gw.url, gw.apiKey, { grants: { stt: true }, expires_in: 60 })
    const sent: [string, Record<string, string>, string | undefined][] = [
      ['no Content-Type, a JSON body', {}, '{"model":"ink-whisper"}'],
      ['no Content-Type, no body', { 'content-length': '0' }, undefined],
      ['application/json', { 'content-type': 'application/json' }, '{"model":"ink-whisper"}'],
    ]
    for (const [what, headers, body] of sent) {
      for (const path of ['/stt', '/voice-changer/bytes']) {
        const token = path === '/stt' ? listener : await mint(gw.url, gw.apiKey, { grants: { voice_changer: true } })
        const res = await rawRequest(gw.url, path, { headers: { ...bearer(token), ...headers }, body })
        assert.deepEqual([res.status, res.json?.error_code], [415, 'unsupported_media_type'], `${path}, ${what}`)
      }
    }
    assert.equal(fake.requests.length, 0)
  })

  test('a WAV also described as raw PCM in the query is charged the longer reading (the upstream may read it as raw)', async () => {
    const listener = await mint(gw.url, gw.apiKey, {
      grants: { stt: true },
      limits: { audio_seconds: 60 },
      expires_in: 60,
    })
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"duration":0}')
    // 1 s of 16 kHz 16-bit audio by its header; 32,044 bytes of 8 kHz μ-law read as raw: 4.0055 s.
    const wav = streamedWav(16000, 32000)
    assert.equal((await upload('/stt?encoding=pcm_mulaw&sample_rate=8000', listener, sttForm(wav))).status, 200)
    assert.equal(await selfUsage(listener), 4.006)
  })

  test('an STT upload voxgate cannot measure is refused 400, never relayed', async () => {
    const listener = await mint(gw.url, gw.apiKey, { grants: { stt: true }, expires_in: 60 })
    const res = await upload('/stt', listener, sttForm(Buffer.from('not audio in any format voxgate knows')))
    assert.equal(res.status, 400)
    assert.equal(res.json().error_code, 'unsupported_audio_format')
    assert.equal(fake.requests.length, 0)
  })

  test('three parallel voice-changer requests with 10 s clips on a 15 s token: one relayed; token and ledger agree', async () => {
    const changer = await mint(gw.url, gw.apiKey, {
      grants: { voice_changer: true },
      sub: 'vc-parallel',
      limits: { audio_seconds: 15 },
      expires_in: 60,
    })
    // 10 s of 16 kHz pcm_s16le back.
    const results = await inParallel(
      3,
      () => upload('/voice-changer/bytes', changer, changerForm(mulawWav(10))),
      (res) => res.writeHead(200, { 'content-type': 'audio/pcm' }).end(Buffer.alloc(320_000)),
    )
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 429, 429])
    assert.equal(fake.requests.length, 1)
    await eventually(async () => (await ledger('vc-parallel')).audio_seconds_voice_changed === 10, 'ledger: 10 s')
    assert.equal(await selfUsage(changer), 10)
  })
})

describe('gateway voice changer: the answer measured from what the upstream sends', () => {
  const refusals: [string, Record<string, string>, string][] = [
    ['no output_format', {}, 'output_format[container]'],
    ['container=ogg', { container: 'ogg', encoding: 'pcm_s16le', sample_rate: '16000' }, 'output_format[container]'],
    [
      'sample_rate="8000 "',
      { container: 'raw', encoding: 'pcm_s16le', sample_rate: '8000 ' },
      'output_format[sample_rate]',
    ],
    [
      'sample_rate=7999',
      { container: 'raw', encoding: 'pcm_s16le', sample_rate: '7999' },
      'output_format[sample_rate]',
    ],
    ['encoding=pcm_u8', { container: 'wav', encoding: 'pcm_u8', sample_rate: '16000' }, 'output_format[encoding]'],
    ['mp3 bit_rate=1e9', { container: 'mp3', sample_rate: '44100', bit_rate: '1e9' }, 'output_format[bit_rate]'],
  ]
  for (const [what, format, field] of refusals) {
    test(`${what} → 400 unsupported_output_format naming ${field}, never relayed`, async () => {
      const changer = await mint(gw.url, gw.apiKey, { grants: { voice_changer: true }, expires_in: 60 })
      const res = await upload('/voice-changer/bytes', changer, changerForm(mulawWav(1), format))
      assert.equal(res.status, 400)
      assert.equal(res.json().error_code, 'unsupported_output_format')
      assert.ok(res.json().message.includes(field), res.json().message)
      assert.equal(fake.requests.length, 0)
    })
  }

  test('a repeated output_format field → 400 naming it; SSE takes raw only', async () => {
    const changer = await mint(gw.url, gw.apiKey, { grants: { voice_changer: true }, expires_in: 60 })
    const twice = changerForm(mulawWav(1))
    twice.append('output_format[sample_rate]', '8000')
    const res = await upload('/voice-changer/bytes', changer, twice)
    assert.equal(res.status, 400)
    assert.ok(res.json().message.includes('output_format[sample_rate]'), res.json().message)
    const wavSse = await upload(
      '/voice-changer/sse',
      changer,
      changerForm(mulawWav(1), { ...RAW_16K, container: 'wav' }),
    )
    assert.equal(wavSse.status, 400)
    assert.equal(wavSse.json().error_code, 'unsupported_output_format')
    assert.equal(fake.requests.length, 0)
  })

  const answersSent: [string, string, Record<string, string>, Buffer, number][] = [
    // Asked for raw 16 kHz, sent a WAV at 8 kHz: its own header sizes it.
    ['a WAV by its own header', 'audio/wav', RAW_16K, streamedWav(8000, 48_000), 3],
    // Asked for an MP3 at a bit rate that would say otherwise: its frames size it.
    [
      'an MP3 by its frames',
      'audio/mpeg',
      { container: 'mp3', sample_rate: '44100', bit_rate: '32000' },
      mp3Frames(100),
      Math.round(100 * MP3_FRAME_MS) / 1000,
    ],
  ]
  for (const [what, type, format, body, seconds] of answersSent) {
    test(`${what}: the 10 s reservation settled to the ${seconds} s sent, on the token and in the ledger`, async () => {
      const sub = `vc-${type.replace('/', '-')}`
      const changer = await mint(gw.url, gw.apiKey, {
        grants: { voice_changer: true },
        sub,
        limits: { audio_seconds: 60 },
        expires_in: 60,
      })
      fake.handler = (_req, res) => res.writeHead(200, { 'content-type': type }).end(body)
      assert.equal((await upload('/voice-changer/bytes', changer, changerForm(mulawWav(10), format))).status, 200)
      await eventually(async () => (await selfUsage(changer)) === seconds, `token: ${seconds} s`)
      await eventually(async () => (await ledger(sub)).audio_seconds_voice_changed === seconds, `ledger: ${seconds} s`)
    })
  }
})
