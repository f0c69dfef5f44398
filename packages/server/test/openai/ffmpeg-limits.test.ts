/**
 * The AAC encode's output bound, one past its edge, with a stand-in for ffmpeg (a shell script that
 * writes exactly N bytes whatever it is fed): the real ffmpeg never writes that much for 4,096
 * characters of speech, so only a stand-in can show the bound holds. The real encode, and ffmpeg
 * killed when the client leaves, are tested with the real ffmpeg in speech.test.ts and gateway.test.ts.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { VoxgateError } from '@voxgate/protocol'
import { AAC_MAX_OUTPUT_BYTES, encodeAac } from '../../src/openai/ffmpeg.ts'
import { ffmpegChildren } from '../helpers/ffmpeg.ts'

const root = mkdtempSync(path.join(tmpdir(), 'voxgate-ffmpeg-'))
after(() => rmSync(root, { recursive: true, force: true }))

/** An "ffmpeg" that reads its input, then writes `bytes` bytes. */
function writing(bytes: number): string {
  const file = path.join(root, `ffmpeg-${bytes}`)
  writeFileSync(file, `#!/bin/sh\ncat >/dev/null\nhead -c ${bytes} /dev/zero\n`)
  chmodSync(file, 0o755)
  return file
}

async function* pcm() {
  yield Buffer.alloc(4800)
}

async function encode(ffmpeg: string): Promise<{ bytes: number; error?: unknown }> {
  let bytes = 0
  try {
    for await (const chunk of encodeAac(pcm(), { ffmpeg, sampleRate: 24000 })) bytes += chunk.length
    return { bytes }
  } catch (error) {
    return { bytes, error }
  }
}

describe('the AAC encode’s output bound', () => {
  test(`${AAC_MAX_OUTPUT_BYTES} bytes pass whole`, async () => {
    const r = await encode(writing(AAC_MAX_OUTPUT_BYTES))
    assert.equal(r.error, undefined)
    assert.equal(r.bytes, AAC_MAX_OUTPUT_BYTES)
  })

  test('one byte more ends the encode with internal_error, the process killed, nothing past the bound sent', async () => {
    const r = await encode(writing(AAC_MAX_OUTPUT_BYTES + 1))
    assert.ok(r.error instanceof VoxgateError)
    assert.equal(r.error.code, 'internal_error')
    assert.equal(r.error.message, `The AAC encode passed ${AAC_MAX_OUTPUT_BYTES} bytes.`)
    assert.ok(r.bytes <= AAC_MAX_OUTPUT_BYTES)
    assert.deepEqual(ffmpegChildren(), [])
  })

  test('an ffmpeg that fails is internal_error naming its exit code', async () => {
    const file = path.join(root, 'ffmpeg-fails')
    writeFileSync(file, '#!/bin/sh\ncat >/dev/null\nexit 3\n')
    chmodSync(file, 0o755)
    const r = await encode(file)
    assert.ok(r.error instanceof VoxgateError)
    assert.equal(r.error.message, 'ffmpeg ended with exit code 3.')
  })
})
