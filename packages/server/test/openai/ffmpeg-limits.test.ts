/**
 * The AAC encode's bounds, each one past its edge, with the real ffmpeg (/usr/bin/ffmpeg, found as
 * the server finds it): its run time (`--aac-max-seconds`, its shipped default, the clock frozen so
 * the edge is exact) and its output (`--aac-max-output-bytes`, set low, the edge measured on the very
 * PCM the test feeds). A stand-in remains for the one case the real ffmpeg cannot be made to show:
 * an ffmpeg that fails with an exit code of its own.
 */
import { after, describe, mock, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { VoxgateError } from '@voxgate/protocol'
import { parseConfig } from '../../src/config.ts'
import { type AacEncode, encodeAac, findFfmpeg } from '../../src/openai/ffmpeg.ts'
import { ffmpegChildren, ffmpegToPcm } from '../helpers/ffmpeg.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer } from '../helpers/http.ts'
import { startSpeechServer } from '../helpers/speech.ts'
import type { TestServer } from '../helpers/server.ts'

const FFMPEG = findFfmpeg(undefined)!
const root = mkdtempSync(path.join(tmpdir(), 'voxgate-ffmpeg-'))
/** The shipped bounds (config.ts), as a server without --aac-max-* runs them. */
const DEFAULTS = parseConfig({ dataDir: root })
after(() => rmSync(root, { recursive: true, force: true }))

/** 0.5 s of a 440 Hz tone at 24 kHz: a few kB of AAC, the same bytes every run. */
const PCM = Buffer.alloc(24_000)
for (let i = 0; i < PCM.length / 2; i++)
  PCM.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000)), i * 2)

async function* once(pcm: Buffer) {
  yield pcm
}

/** The server's encode: the real ffmpeg at its shipped bounds, unless the test sets one. */
const options = (set: Partial<AacEncode> = {}): AacEncode => ({
  path: FFMPEG,
  sampleRate: 24_000,
  maxRunMs: DEFAULTS.aacMaxRunMs,
  maxOutputBytes: DEFAULTS.aacMaxOutputBytes,
  ...set,
})

async function encode(pcm: AsyncIterable<Buffer>, set: Partial<AacEncode> = {}) {
  let bytes = 0
  try {
    for await (const chunk of encodeAac(pcm, options(set))) bytes += chunk.length
    return { bytes }
  } catch (error) {
    return { bytes, error }
  }
}

describe('the AAC encode’s output bound (--aac-max-output-bytes), with the real ffmpeg', () => {
  test('an encode of exactly the bound passes whole; one byte less of bound ends it with internal_error', async () => {
    const whole = await encode(once(PCM))
    assert.equal(whole.error, undefined)
    assert.ok(whole.bytes > 1024, `${whole.bytes} bytes of AAC`)
    const edge = await encode(once(PCM), { maxOutputBytes: whole.bytes })
    assert.deepEqual(edge, { bytes: whole.bytes })
    const past = await encode(once(PCM), { maxOutputBytes: whole.bytes - 1 })
    assert.ok(past.error instanceof VoxgateError)
    assert.equal(past.error.code, 'internal_error')
    assert.equal(past.error.message, `The AAC encode passed ${whole.bytes - 1} bytes.`)
    assert.ok(past.bytes <= whole.bytes - 1)
    assert.deepEqual(ffmpegChildren(), [])
  })
})

describe('a server whose AAC encode passes --aac-max-output-bytes', () => {
  const speak = (url: string, key: string, input: string) =>
    fetch(`${url}/v1/audio/speech`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input, response_format: 'aac' }),
    })

  test('the answer is refused or cut short, internal_error is logged, ffmpeg is gone, the next answer is whole', async () => {
    const { t } = await startSpeechServer({ aacMaxOutputBytes: 1024 })
    try {
      const res = await speak(t.url, t.apiKey, 'One two three four. Five six. Seven eight nine ten eleven twelve.')
      // Where the bound is passed decides how the client sees it: within ffmpeg's first write, before
      // the status line went out, a 500 naming the code; after it, a body cut short (fetch rejects).
      if (res.status === 500) {
        const body = await res.json()
        assert.equal(body.error.code, 'internal_error')
        assert.equal(body.error.message, 'The AAC encode passed 1024 bytes.')
      } else {
        assert.equal(res.status, 200)
        await assert.rejects(res.arrayBuffer(), { name: 'TypeError', message: 'terminated' })
      }
      // Either way the operator is told, with the code.
      await eventually(() => failures(t).length === 1, 'the failure logged')
      assert.deepEqual(failures(t), [
        { level: 40, error_code: 'internal_error', reason: 'The AAC encode passed 1024 bytes.' },
      ])
      await eventually(() => ffmpegChildren().length === 0, 'ffmpeg killed')
      // Under the bound (a word of speech is well under 1 kB of AAC), the same server answers whole.
      const next = await speak(t.url, t.apiKey, 'Hi.')
      assert.equal(next.status, 200)
      const bytes = new Uint8Array(await next.arrayBuffer())
      assert.ok(bytes.length > 0 && bytes.length <= 1024, `${bytes.length} bytes`)
      assert.ok(ffmpegToPcm(bytes, 24_000).length > 0)
      assert.equal(failures(t).length, 1)
    } finally {
      await t.close()
    }
  })
})

/** The server's `speech stream failed` lines: level, code and reason. */
function failures(t: TestServer) {
  return t.logs.lines
    .map((line) => JSON.parse(line))
    .filter((l) => l.msg === 'speech stream failed')
    .map(({ level, error_code, reason }) => ({ level, error_code, reason }))
}

describe('the AAC encode’s run-time bound (--aac-max-seconds), with the real ffmpeg and a frozen clock', () => {
  /** PCM whose end the test decides: half now, the rest when `end()` is called. */
  function heldOpen() {
    let end!: () => void
    const ended = new Promise<void>((resolve) => (end = resolve))
    async function* pcm() {
      yield PCM
      await ended
      yield PCM
    }
    return { pcm: pcm(), end }
  }

  /** Starts an encode whose input stays open; resolves once ffmpeg has written (so it is running). */
  async function running() {
    const input = heldOpen()
    const it = encodeAac(input.pcm, options())
    assert.equal((await it.next()).done, false)
    const rest = (async () => {
      try {
        for await (const _ of { [Symbol.asyncIterator]: () => it }) {
          // Drained: only how the encode ends matters here.
        }
        return undefined
      } catch (error) {
        return error
      }
    })()
    return { end: input.end, rest }
  }

  test(`${DEFAULTS.aacMaxRunMs} ms less one: the encode ends as its input does`, async () => {
    mock.timers.enable({ apis: ['setTimeout'] })
    try {
      const encode = await running()
      mock.timers.tick(DEFAULTS.aacMaxRunMs - 1)
      encode.end()
      assert.equal(await encode.rest, undefined)
    } finally {
      mock.timers.reset()
    }
  })

  test(`${DEFAULTS.aacMaxRunMs} ms: ffmpeg is killed and the encode ends with internal_error`, async () => {
    mock.timers.enable({ apis: ['setTimeout'] })
    try {
      const encode = await running()
      mock.timers.tick(DEFAULTS.aacMaxRunMs)
      const error = await encode.rest
      assert.ok(error instanceof VoxgateError)
      assert.equal(error.code, 'internal_error')
      assert.equal(error.message, `The AAC encode ran longer than ${DEFAULTS.aacMaxRunMs / 1000} s.`)
      encode.end()
      assert.deepEqual(ffmpegChildren(), [])
    } finally {
      mock.timers.reset()
    }
  })
})

describe('an ffmpeg that fails', () => {
  // A stand-in: the real ffmpeg fed valid PCM does not fail, and making it fail (bad arguments, a
  // broken binary) would no longer be the encode the server runs.
  test('is internal_error naming its exit code', async () => {
    const file = path.join(root, 'ffmpeg-fails')
    writeFileSync(file, '#!/bin/sh\ncat >/dev/null\nexit 3\n')
    chmodSync(file, 0o755)
    const r = await encode(once(PCM), { path: file })
    assert.ok(r.error instanceof VoxgateError)
    assert.equal(r.error.code, 'internal_error')
    assert.equal(r.error.message, 'ffmpeg ended with exit code 3.')
  })
})
