/** `language` and `locale`: which engine voice speaks (tts/language.ts). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveVoice } from '../../src/tts/language.ts'
import { VOICE_ENTRIES, type VoiceEntry } from '../../src/tts/voice-table.ts'

const entry = (engineVoice: string): VoiceEntry => {
  const e = VOICE_ENTRIES.find((v) => v.engineVoice === engineVoice)
  if (!e) throw new Error(`no voice ${engineVoice}`)
  return e
}

test('an eSpeak voice with locale en-GB speaks British English, keeping its variant', () => {
  assert.deepEqual(resolveVoice(entry('en-us+f3'), undefined, 'en-GB'), { engine: 'espeak', voice: 'en-gb-x-rp+f3' })
  assert.deepEqual(resolveVoice(entry('en-us+f3'), undefined, 'en_gb'), { engine: 'espeak', voice: 'en-gb-x-rp+f3' })
  assert.deepEqual(resolveVoice(entry('en-gb-x-rp'), undefined, 'en-US'), { engine: 'espeak', voice: 'en-us' })
})

test('a locale eSpeak has no accent for keeps the voice as it is', () => {
  assert.deepEqual(resolveVoice(entry('en-us+f3'), undefined, 'en-AU'), { engine: 'espeak', voice: 'en-us+f3' })
})

test('pt-BR and es-MX pick their accents; another language switches like `language` does', () => {
  assert.deepEqual(resolveVoice(entry('es'), undefined, 'es-MX'), { engine: 'espeak', voice: 'es-419' })
  assert.deepEqual(resolveVoice(entry('en-us+f3'), undefined, 'pt-BR'), { engine: 'espeak', voice: 'pt-br+f3' })
  assert.deepEqual(resolveVoice(entry('en-us+f3'), undefined, 'pt-PT'), { engine: 'espeak', voice: 'pt+f3' })
})

test('Flite has no accents: an English locale keeps the Flite voice, another language hands over to eSpeak', () => {
  assert.deepEqual(resolveVoice(entry('slt'), undefined, 'en-GB'), { engine: 'flite', voice: 'slt' })
  assert.deepEqual(resolveVoice(entry('slt'), undefined, 'de-DE'), { engine: 'espeak', voice: 'de+f3' })
})

test('language alone behaves as before', () => {
  assert.deepEqual(resolveVoice(entry('en-us+f3'), 'en'), { engine: 'espeak', voice: 'en-us+f3' })
  assert.deepEqual(resolveVoice(entry('en-us+f3'), 'de'), { engine: 'espeak', voice: 'de+f3' })
})
