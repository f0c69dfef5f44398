/**
 * The recognisers' calibration kept on disk (`--stt-calibration-file`): written once made, keyed by what
 * made it, read by the next process instead of calibrating again, and ignored when it is not this
 * model's. A server in this process calibrates first (nothing else in this file's process has), then a
 * `voxgate serve` reads what it wrote.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { calibrationKey, readCalibration, writeCalibration } from '../../src/stt/calibration-file.ts'
import { MODEL_DIR } from '../../src/stt/pocketsphinx.ts'
import { createSpeechService } from '../../src/tts/index.ts'
import { BIN, listening, spawnServe } from '../helpers/cli.ts'
import { bearer } from '../helpers/http.ts'
import { startTestServer, testTls } from '../helpers/server.ts'
import { concatPcm, FLITE_VOICES, silence, speak, wav } from './helpers.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-calibration-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const state = (mean: number[], nframe = 500) => ({
  mean: Float32Array.from(mean),
  sum: Float32Array.from(mean.map((m) => m * nframe)),
  nframe,
})

describe('calibration file', () => {
  test('the key follows the model files: the same folder, the same key; a file touched, another key', () => {
    const model = path.join(dir, 'model')
    cpSync(path.join(MODEL_DIR, 'en-us', 'feat.params'), path.join(model, 'en-us', 'feat.params'))
    writeFileSync(path.join(model, 'en-us.lm.bin'), 'lm')
    const key = calibrationKey(model)
    assert.match(key, /^[0-9a-f]{64}$/)
    assert.equal(calibrationKey(model), key)
    assert.notEqual(calibrationKey(MODEL_DIR), key)
    utimesSync(path.join(model, 'en-us.lm.bin'), new Date(0), new Date(0))
    assert.notEqual(calibrationKey(model), key)
  })

  test('written and read back exactly, owner-only; another key, a torn or foreign file: nothing', () => {
    const file = path.join(dir, 'roundtrip.json')
    const kept = state([50.518192291259766, 4.67962121963501, -9.709507942199707, 0.1, 1e-7])
    writeCalibration(file, 'k1', kept)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.deepEqual(readCalibration(file, 'k1'), kept)
    assert.equal(readCalibration(file, 'k2'), undefined)
    assert.equal(readCalibration(path.join(dir, 'missing.json'), 'k1'), undefined)
    for (const text of ['{"key":"k1","mean":[1,2]', '{"key":"k1","mean":[1,"2"],"sum":[1,2],"nframe":3}', '[]']) {
      writeFileSync(file, text)
      assert.equal(readCalibration(file, 'k1'), undefined, text)
    }
  })

  test('a folder that cannot be written: no error, nothing left behind', () => {
    writeCalibration(path.join(dir, 'no-such-folder', 'c.json'), 'k1', state([1, 2]))
    assert.throws(() => statSync(path.join(dir, 'no-such-folder')), { code: 'ENOENT' })
  })
})

describe('a server keeps its calibration, and the next process starts from it', () => {
  const file = path.join(dir, 'stt-calibration.json')
  let clip: Buffer

  before(async () => {
    // Flite only, which speaks each sentence in a fresh instance: warming the engines changes no byte.
    const speech = await createSpeechService({ workers: 1, warm: false })
    try {
      const words = await speak(speech, FLITE_VOICES.get('slt')!, 'The quick brown fox jumps over the lazy dog.')
      clip = wav(concatPcm([silence(0.3), words, silence(0.3)]))
    } finally {
      await speech.close()
    }
  })

  async function transcribe(url: string, apiKey: string): Promise<string> {
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(clip)]), 'speech.wav')
    form.append('model', 'ink-whisper')
    const res = await fetch(`${url}/stt`, { method: 'POST', headers: bearer(apiKey), body: form })
    const body = (await res.json()) as { text: string }
    assert.equal(res.status, 200, JSON.stringify(body))
    return body.text
  }

  let calibrated: string

  test('the first recogniser writes the calibration under the key of this model, over a stale file', async () => {
    writeCalibration(file, 'a stale key', state(Array(13).fill(1)))
    const t = await startTestServer({ sttCalibrationFile: file })
    try {
      calibrated = await transcribe(t.url, t.apiKey)
    } finally {
      await t.close()
    }
    assert.match(calibrated, /brown fox/)
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { key: string; mean: number[] }
    assert.equal(kept.key, calibrationKey(MODEL_DIR))
    assert.equal(kept.mean.length, 13)
    assert.notDeepEqual(kept.mean, Array(13).fill(1))
  })

  test('`voxgate serve --stt-calibration-file` starts its recogniser from the file, and leaves it as it was', async () => {
    // The file's CMN, all zeros, is no calibration at all: heard from it, the same clip reads otherwise.
    writeCalibration(file, calibrationKey(MODEL_DIR), state(Array(13).fill(0)))
    const written = readFileSync(file, 'utf8')
    const data = path.join(dir, 'serve-data')
    const created = execFileSync(process.execPath, [BIN, 'keys', 'create', '--json', '--data', data], {
      encoding: 'utf8',
    })
    const apiKey = (JSON.parse(created) as { key: string }).key
    const { tlsCertFile, tlsKeyFile } = testTls()
    const tls = ['--tls-cert', tlsCertFile, '--tls-key', tlsKeyFile]
    const serve = spawnServe(data, ['--port', '0', ...tls, '--stt-max-streams', '1', '--stt-calibration-file', file])
    try {
      const heard = await transcribe(await listening(serve), apiKey)
      assert.notEqual(heard, calibrated)
    } finally {
      assert.equal(await serve.stop(), 0)
    }
    assert.equal(readFileSync(file, 'utf8'), written)
  })
})
