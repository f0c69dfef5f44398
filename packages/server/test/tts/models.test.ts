import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_MODEL_ID, MODEL_IDS, resolveModel } from '../../src/tts/index.ts'

test('Cartesia model ids, dated or not, are aliases of the default model', () => {
  for (const id of [
    'sonic-3',
    'sonic-3.5',
    'sonic-2',
    'sonic-turbo',
    'sonic-latest',
    'sonic-english',
    'sonic-multilingual',
    'sonic',
    'sonic-3-2025-10-27',
    'sonic-3.5-2026-05-04',
    'sonic-2024-12-12',
    'sonic-turbo-2025-03-07',
  ]) {
    assert.deepEqual(resolveModel(id), { id, engine: 'auto', aliasOf: DEFAULT_MODEL_ID }, id)
  }
})

test('voxgate model ids name their engine', () => {
  assert.equal(resolveModel('voxgate-espeak')?.engine, 'espeak')
  assert.equal(resolveModel('voxgate-flite')?.engine, 'flite')
  assert.equal(resolveModel(DEFAULT_MODEL_ID)?.engine, 'auto')
  for (const id of MODEL_IDS) assert.ok(resolveModel(id), id)
})

test('unknown model ids are refused', () => {
  for (const id of ['', 'sonic-4', 'gpt-4o', 'SONIC-3', 'sonic-3-2025-13-01', 'sonic-3-20251027', 'voxgate']) {
    assert.equal(resolveModel(id), undefined, id)
  }
})
