import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call } from '../helpers/http.ts'
import { firstVoice, parseSse, raw, startSpeechServer } from '../helpers/speech.ts'

let t: TestServer
let voice: string
before(async () => ({ t, voice } = await startSpeechServer()))
after(() => t.close())

const sse = (body: object) =>
  call(t.url, '/tts/sse', {
    headers: bearer(t.apiKey),
    body: {
      model_id: 'sonic-3',
      transcript: 'One two three. Four five.',
      voice,
      output_format: raw('pcm_s16le', 16000),
      ...body,
    },
  })

describe('POST /tts/sse', () => {
  test('event: + one data: line per frame, chunks then done, context_id echoed, stream closed', async () => {
    const res = await sse({ context_id: 'c1' })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
    const frames = parseSse(res.text)
    for (const f of frames) {
      assert.equal(f.data.type, f.event)
      assert.equal(f.data.context_id, 'c1')
    }
    assert.deepEqual(
      frames.map((f) => f.event),
      ['chunk', 'chunk', 'chunk', 'chunk', 'chunk', 'done'],
    )
    const audio = frames.filter((f) => f.event === 'chunk').map((f) => Buffer.from(f.data.data, 'base64'))
    assert.equal(Buffer.concat(audio).length, 5 * 960 * 2)
    assert.deepEqual(frames.at(-1)!.data, { type: 'done', done: true, status_code: 206, context_id: 'c1' })
    for (const f of frames.slice(0, -1)) assert.equal(f.data.done, false)
  })

  test('add_timestamps adds word timestamps in seconds', async () => {
    const frames = parseSse((await sse({ add_timestamps: true })).text)
    const ts = frames.filter((f) => f.event === 'timestamps').map((f) => f.data.word_timestamps)
    assert.deepEqual(
      ts.flatMap((w) => w.words),
      ['One', 'two', 'three.', 'Four', 'five.'],
    )
    const starts = ts.flatMap((w) => w.start)
    const ends = ts.flatMap((w) => w.end)
    assert.deepEqual(
      starts.map((s: number) => Math.round(s * 1000)),
      [0, 60, 120, 180, 240],
    )
    assert.deepEqual(
      ends.map((s: number) => Math.round(s * 1000)),
      [60, 120, 180, 240, 300],
    )
  })

  test('without context_id, events carry none', async () => {
    const frames = parseSse((await sse({})).text)
    assert.ok(frames.every((f) => !('context_id' in f.data)))
  })

  test('wav or mp3 are refused: raw only', async () => {
    const res = await sse({ output_format: { container: 'wav', encoding: 'pcm_s16le', sample_rate: 16000 } })
    assert.equal(res.status, 400)
    assert.equal(res.json.error_code, 'invalid_request')
  })

  test('checks before the first event are plain JSON errors', async () => {
    const res = await sse({ voice: 'nope' })
    assert.equal(res.status, 404)
    assert.equal(res.json.error_code, 'voice_not_found')
  })
})

describe('POST /tts/sse at shutdown', () => {
  test('an open stream ends with an error event (connection_closing) before the server goes', async () => {
    const own = await startTestServer()
    const ownVoice = await firstVoice(own.url, own.apiKey)
    const res = await fetch(`${own.url}/tts/sse`, {
      method: 'POST',
      headers: { ...bearer(own.apiKey), 'content-type': 'application/json' },
      body: JSON.stringify({
        model_id: 'sonic-3',
        transcript: 'word '.repeat(1900),
        voice: ownVoice,
        output_format: raw('pcm_f32le', 48000),
      }),
    })
    const reader = res.body!.getReader()
    await reader.read()
    const closing = own.close()
    let text = ''
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += Buffer.from(r.value).toString()
    await closing
    const last = text.trimEnd().split('\n\n').at(-1)!
    assert.match(last, /^event: error\ndata: /)
    assert.equal(JSON.parse(last.split('data: ')[1]!).error_code, 'connection_closing')
  })
})
