/**
 * Untrusted input to speech-to-text, generated: arbitrary bytes (bare or behind each container's
 * magic) and arbitrary query values to the upload, arbitrary text and binary frames to both sockets.
 * Never a 5xx, never an `internal_error` event, and the server still serves afterwards.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { openStt } from './helpers.ts'

let t: TestServer
let token: string
before(async () => {
  t = await startTestServer({ sttUploadLimitBytes: 64 * 1024 })
  token = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 3600 })
})
after(() => t.close())

const MAGIC = [
  '',
  'RIFF\u0000\u0000\u0000\u0000WAVEfmt ',
  'OggS',
  '\u001aE\u00df\u00a3',
  'ID3',
  '\u00ff\u00fb',
  'fLaC',
  'ftypM4A ',
]
const bytes = (prefix: string, body: Uint8Array) => new Uint8Array([...Buffer.from(prefix, 'latin1'), ...body])

describe('speech-to-text under generated input', () => {
  test('uploads: any bytes behind any magic, any encoding and rate: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MAGIC),
        fc.uint8Array({ maxLength: 4096 }),
        fc.option(fc.oneof(fc.constantFrom('pcm_s16le', 'pcm_f32le', 'pcm_mulaw'), fc.string({ maxLength: 12 })), {
          nil: undefined,
        }),
        fc.option(fc.oneof(fc.integer({ min: -1, max: 200_000 }), fc.string({ maxLength: 8 })), { nil: undefined }),
        async (magic, body, encoding, rate) => {
          const form = new FormData()
          form.append('file', new Blob([bytes(magic, body)]), 'upload')
          form.append('model', 'ink-whisper')
          const q = new URLSearchParams({
            ...(encoding !== undefined && { encoding }),
            ...(rate !== undefined && { sample_rate: String(rate) }),
          })
          const res = await fetch(`${t.url}/stt?${q}`, { method: 'POST', headers: bearer(token), body: form })
          const text = await res.text()
          assert.ok(res.status < 500, `${res.status}: ${text.slice(0, 200)}`)
        },
      ),
      { numRuns: 40 },
    )
  })

  for (const path of ['/stt/websocket', '/stt/turns/websocket']) {
    test(`${path}: arbitrary text and binary frames: no internal_error, and the server goes on`, async () => {
      const frames = fc.sample(
        fc.oneof(
          fc.string({ maxLength: 64 }),
          fc.json(),
          fc.constantFrom('finalize', 'close', 'done', '{"type":"config","turn":{}}', '{"type":"close"}'),
          fc.uint8Array({ maxLength: 2048 }),
        ),
        { numRuns: 120, seed: 7 },
      )
      const s = openStt(t.url, path, 'model=ink-2&encoding=pcm_s16le&sample_rate=16000', bearer(token))
      await s.opened
      for (const f of frames) {
        if (s.ws.readyState !== s.ws.OPEN) break
        s.ws.send(typeof f === 'string' ? f : Buffer.from(f), { binary: typeof f !== 'string' })
      }
      if (s.ws.readyState === s.ws.OPEN) s.ws.close()
      await s.closed
      assert.deepEqual(
        s.events.filter((e) => e.error_code === 'internal_error'),
        [],
      )
      assert.equal((await call(t.url, '/')).status, 200)
      const again = openStt(t.url, path, 'model=ink-2&encoding=pcm_s16le&sample_rate=16000', bearer(token))
      await again.opened
      again.ws.close()
      await again.closed
    })
  }
})
