/**
 * OpenAI's routes on a gateway whose upstream is a real voxgate (real engines, the real recogniser,
 * on loopback behind --insecure-http-behind-proxy, as test/gateway/chain.test.ts runs it), spoken to
 * with the real `openai` SDK: the translated speech is the upstream's own audio, the formats the
 * gateway encodes decode, and what the gateway says comes back through its transcription relay.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { FLACDecoder } from '@wasm-audio-decoders/flac'
import { countCharacters } from '@voxgate/protocol'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { wer } from '../stt/helpers.ts'
import { OPENAI_VOICES } from '../../src/openai/voices.ts'

const SENTENCE = 'The weather is nice today.'
const root = mkdtempSync(path.join(tmpdir(), 'voxgate-openai-chain-'))
let upstream: TestServer
let gw: TestServer
let openai: OpenAI
let token: string
/** The upstream's own voice for OpenAI's alloy: what the gateway's voice map names. */
const ALLOY = OPENAI_VOICES.get('alloy')!

before(async () => {
  upstream = await startTestServer({ insecureHttpBehindProxy: true, speech: 'real' })
  const map = path.join(root, 'voices.json')
  writeFileSync(map, JSON.stringify({ alloy: ALLOY }))
  gw = await startTestServer({
    upstreamUrl: upstream.url,
    upstreamApiKey: upstream.apiKey,
    openAiVoiceMapFile: map,
    // The upstream's recogniser loads and calibrates on its first upload: seconds on a loaded runner.
    upstreamTimeoutMs: 120_000,
  })
  token = await mint(gw.url, gw.apiKey, { grants: { tts: true, stt: true }, expires_in: 600, sub: 'chain' })
  openai = new OpenAI({ apiKey: token, baseURL: `${gw.url}/v1`, maxRetries: 0 })
})
after(async () => {
  await gw.close()
  await upstream.close()
  rmSync(root, { recursive: true, force: true })
})

const speak = async (response_format: 'pcm' | 'flac' | 'wav') =>
  new Uint8Array(
    await (
      await openai.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: SENTENCE, response_format })
    ).arrayBuffer(),
  )

describe('a gateway in front of a voxgate: OpenAI’s routes translated onto its relays', () => {
  test('pcm through the gateway is the upstream’s own /tts/bytes audio for the mapped voice, byte for byte', async () => {
    const relayed = await speak('pcm')
    const direct = await fetch(`${upstream.url}/tts/bytes`, {
      method: 'POST',
      headers: { ...bearer(upstream.apiKey), 'x-forwarded-proto': 'https', 'content-type': 'application/json' },
      body: JSON.stringify({
        model_id: 'sonic-3',
        transcript: SENTENCE,
        voice: { mode: 'id', id: ALLOY },
        output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
      }),
    })
    assert.equal(direct.status, 200)
    assert.ok(relayed.length > 24000, `${relayed.length} bytes`)
    assert.deepEqual(Buffer.from(relayed), Buffer.from(await direct.arrayBuffer()))
  })

  test('flac, encoded by the gateway from the upstream’s PCM, decodes to those very samples', async () => {
    const pcm = await speak('pcm')
    const flac = await speak('flac')
    const decoder = new FLACDecoder()
    await decoder.ready
    const d = await decoder.decode(flac)
    const tail = await decoder.flush()
    decoder.free()
    const decoded = [...d.channelData[0]!, ...(tail.channelData[0] ?? [])].map((s) => Math.round(s * 32767))
    assert.deepEqual(decoded, Array.from(new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2)))
  })

  test('round trip: the gateway’s speech, transcribed through the gateway, is the sentence, in text and srt', async () => {
    const wav = await speak('wav')
    const text = (await openai.audio.transcriptions.create({
      file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
      model: 'whisper-1',
      response_format: 'text',
    })) as unknown as string
    const w = wer(SENTENCE, text)
    assert.ok(w.errors / w.words <= 0.15, `"${text}" (${w.errors}/${w.words} errors)`)
    const srt = (await openai.audio.transcriptions.create({
      file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
      model: 'whisper-1',
      response_format: 'srt',
    })) as unknown as string
    assert.match(srt, /^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n/)
    assert.equal(
      srt
        .split('\n\n')
        .filter(Boolean)
        .map((cue) => cue.split('\n').slice(2).join(' '))
        .join(' '),
      text,
    )
  })

  test('the gateway’s ledger counts the characters spoken through it', async () => {
    const counted = await mint(gw.url, gw.apiKey, {
      grants: { tts: true },
      expires_in: 60,
      limits: { characters: 100 },
    })
    const sdk = new OpenAI({ apiKey: counted, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const res = await sdk.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: SENTENCE })
    assert.ok((await res.arrayBuffer()).byteLength > 0)
    const self = await call(gw.url, '/access-token/self', { headers: bearer(counted) })
    assert.equal(self.json.usage.characters, countCharacters(SENTENCE))
  })
})
