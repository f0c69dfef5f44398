/**
 * Sonic-3 markup, generation_config and phoneme timestamps through the official
 * @cartesia/cartesia-js v4, unchanged but for `baseURL`: exact durations and loudness over the
 * deterministic engine (one 60 ms tone per word), then the same promises over the real engines.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { concat, parseWavHeader, rmsS16 } from '../helpers/audio.ts'

const require = createRequire(import.meta.url)
const { Cartesia } = require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js')
type Client = InstanceType<typeof Cartesia>

const RATE = 16000
const FLITE_SLT = '6543f319-375f-51d6-9847-9ede2c0c7072'
const ESPEAK_US_F = '034399ac-0952-54d4-942a-4a9c952092de'

/** The samples of a `tts.generate` WAV answer. */
async function generate(
  client: Client,
  voice: string,
  transcript: string,
  extra: Record<string, unknown> = {},
): Promise<Uint8Array> {
  const res = await client.tts.generate({
    model_id: 'sonic-3',
    transcript,
    voice,
    output_format: { container: 'wav', encoding: 'pcm_s16le', sample_rate: RATE },
    ...extra,
  } as never)
  const bytes = new Uint8Array(await res.arrayBuffer())
  return bytes.subarray(parseWavHeader(bytes).dataOffset)
}
const seconds = (pcm: Uint8Array) => pcm.length / 2 / RATE

/** The audio of one WebSocket context fed in `pieces` (each a `push`, then no_more_inputs). */
async function streamed(client: Client, voice: string, pieces: string[]): Promise<Uint8Array> {
  const ws = await client.tts.websocket()
  try {
    const ctx = ws.context({
      model_id: 'sonic-3',
      voice,
      output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: RATE },
    } as never)
    for (const transcript of pieces) await ctx.push({ transcript })
    await ctx.no_more_inputs()
    const audio: Uint8Array[] = []
    for await (const e of ctx.receive({ timeout: 20_000 }) as AsyncIterable<any>)
      if (e.type === 'chunk') audio.push(Buffer.from(e.data, 'base64'))
    return concat(audio)
  } finally {
    ws.close()
  }
}

function within(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not ${expected} ± ${tolerance}`)
}

describe('over the deterministic engine', () => {
  let t: TestServer
  let client: Client
  before(async () => {
    t = await startTestServer()
    client = new Cartesia({ apiKey: t.apiKey, baseURL: t.url })
  })
  after(() => t.close())

  test('<break time="1s"/> lengthens the audio by 1 s', async () => {
    const plain = seconds(await generate(client, FLITE_SLT, 'Hello world, again.'))
    within(
      seconds(await generate(client, FLITE_SLT, 'Hello world,<break time="1s"/> again.')) - plain,
      1,
      0.05,
      'break 1s',
    )
    within(
      seconds(await generate(client, FLITE_SLT, 'Hello world, <break time="1500ms"/>again.')) - plain,
      1.5,
      0.05,
      'break 1500ms',
    )
  })

  test('<volume ratio="0.5"/> and generation_config.volume scale RMS by the ratio', async () => {
    const text = 'Some words to measure.'
    const base = rmsS16(await generate(client, FLITE_SLT, text))
    within(rmsS16(await generate(client, FLITE_SLT, `<volume ratio="0.5"/>${text}`)) / base, 0.5, 0.05, 'tag 0.5')
    within(
      rmsS16(await generate(client, FLITE_SLT, text, { generation_config: { volume: 0.5 } })) / base,
      0.5,
      0.05,
      'config 0.5',
    )
    within(
      rmsS16(await generate(client, FLITE_SLT, text, { generation_config: { volume: 2, emotion: 'angry' } })) / base,
      2,
      0.2,
      'config 2',
    )
  })

  test('<spell>cat</spell> takes clearly longer than "cat"', async () => {
    const cat = seconds(await generate(client, FLITE_SLT, 'cat'))
    assert.ok(seconds(await generate(client, FLITE_SLT, '<spell>cat</spell>')) >= 2.5 * cat)
  })

  test('a tag split over two WebSocket continue messages still works', async () => {
    const plain = seconds(await streamed(client, FLITE_SLT, ['Hello ', 'world.']))
    within(
      seconds(await streamed(client, FLITE_SLT, ['Hello <brea', 'k time="1s"/>world.'])) - plain,
      1,
      0.05,
      'split in the name',
    )
    within(
      seconds(await streamed(client, FLITE_SLT, ['Hello <break time="1', 's"/>world.'])) - plain,
      1,
      0.05,
      'split in the value',
    )
  })

  test('markup in force carries over to later WebSocket segments', async () => {
    const base = rmsS16(await streamed(client, FLITE_SLT, ['Quiet one. ', 'Still quiet. ', 'Yes.']))
    const quiet = rmsS16(
      await streamed(client, FLITE_SLT, ['<volume ratio="0.5"/>Quiet one. ', 'Still quiet. ', 'Yes.']),
    )
    within(quiet / base, 0.5, 0.05, 'volume across segments')
  })
})

describe('over the real engines', () => {
  let t: TestServer
  let client: Client
  before(async () => {
    t = await startTestServer({ speech: 'real', speechWorkers: 1 })
    client = new Cartesia({ apiKey: t.apiKey, baseURL: t.url })
  })
  after(() => t.close())

  for (const [name, voice] of [
    ['eSpeak', ESPEAK_US_F],
    ['Flite', FLITE_SLT],
  ] as const) {
    test(`${name}: <break time="1s"/> lengthens the audio by 1 s of silence`, async () => {
      const plain = seconds(await generate(client, voice, 'Hello there. Goodbye now.'))
      within(
        seconds(await generate(client, voice, 'Hello there. <break time="1s"/>Goodbye now.')) - plain,
        1,
        0.05,
        name,
      )
    })

    test(`${name}: <volume ratio="0.5"/> and generation_config.volume halve the RMS`, async () => {
      const text = 'Access tokens let a browser speak.'
      const base = rmsS16(await generate(client, voice, text))
      within(rmsS16(await generate(client, voice, `<volume ratio="0.5"/>${text}`)) / base, 0.5, 0.05, 'tag')
      within(
        rmsS16(await generate(client, voice, text, { generation_config: { volume: 0.5 } })) / base,
        0.5,
        0.05,
        'config',
      )
    })

    test(`${name}: <spell>cat</spell> takes clearly longer than "cat"`, async () => {
      const cat = seconds(await generate(client, voice, 'cat'))
      const spelled = seconds(await generate(client, voice, '<spell>cat</spell>'))
      assert.ok(spelled >= 1.5 * cat, `${spelled} vs ${cat}`)
    })

    test(`${name}: phoneme timestamps are monotonic, inside the audio, and cover it`, async () => {
      const stream = await client.tts.generateSSE({
        model_id: 'sonic-3',
        transcript: 'Hello world. Phonemes follow the audio.',
        voice,
        add_phoneme_timestamps: true,
        output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: RATE },
      } as never)
      const audio: Uint8Array[] = []
      const phonemes: string[] = []
      const start: number[] = []
      const end: number[] = []
      for await (const e of stream as AsyncIterable<any>) {
        if (e.type === 'chunk') audio.push(Buffer.from(e.data, 'base64'))
        if (e.type === 'phoneme_timestamps') {
          phonemes.push(...e.phoneme_timestamps.phonemes)
          start.push(...e.phoneme_timestamps.start)
          end.push(...e.phoneme_timestamps.end)
        }
      }
      const duration = seconds(concat(audio))
      assert.ok(phonemes.length >= 20, `${phonemes.length} phonemes`)
      assert.ok(phonemes.every((p) => p.length > 0 && !/[ˈˌ]/.test(p)))
      for (let i = 0; i < phonemes.length; i++) {
        assert.ok(start[i]! <= end[i]! && end[i]! <= duration + 1e-3, `phoneme ${i} inside the audio`)
        if (i > 0) assert.ok(start[i]! >= end[i - 1]! - 1e-3, `phoneme ${i} after ${i - 1}`)
        if (i > 0) assert.ok(start[i]! - end[i - 1]! < 0.6, `no long gap before phoneme ${i}`)
      }
      assert.ok(start[0]! < 0.3 && end.at(-1)! > duration - 0.4, `covers 0..${duration}: ${start[0]}..${end.at(-1)}`)
    })
  }
})
