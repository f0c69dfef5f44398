import assert from 'node:assert/strict'
import { test } from 'node:test'
import { VoicesQuery } from '@voxgate/protocol/schemas'
import { DEFAULT_VOICE_ID, VOICE_ENTRIES, VOICE_ID_NAMESPACE } from '../../src/tts/index.ts'
import { resolveVoice } from '../../src/tts/language.ts'
import { uuidV5 } from '../../src/tts/uuid.ts'
import { createVoiceCatalogue } from '../../src/tts/voices.ts'

const catalogue = createVoiceCatalogue()
const list = (q: Record<string, unknown>) => catalogue.list(VoicesQuery.parse(q))
const all = VOICE_ENTRIES.map((e) => e.voice.id)

test('voice ids are UUID v5 of the engine voice, the same on every machine', () => {
  assert.equal(
    uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
    '2ed6657d-e927-568b-95e1-2665a8aea6a2',
  )
  assert.equal(VOICE_ID_NAMESPACE, '6f1d3c2e-7a4b-4e58-9c1a-2b7d0e5f8a91')
  // Pinned: a changed id breaks every client that saved it.
  assert.equal(DEFAULT_VOICE_ID, '6543f319-375f-51d6-9847-9ede2c0c7072')
  assert.equal(catalogue.get(DEFAULT_VOICE_ID)?.name, 'Flite SLT')
  assert.equal(new Set(all).size, all.length)
  for (const e of VOICE_ENTRIES) assert.equal(e.voice.id, uuidV5(`${e.engine}:${e.engineVoice}`, VOICE_ID_NAMESPACE))
})

test('the catalogue has at least 6 voices in 5 languages, in Cartesia shape', () => {
  assert.ok(all.length >= 6)
  assert.ok(new Set(VOICE_ENTRIES.map((e) => e.voice.language)).size >= 5)
  const v = catalogue.get(DEFAULT_VOICE_ID)
  assert.deepEqual(v && { ...v, id: 'x' }, {
    id: 'x',
    name: 'Flite SLT',
    description: v?.description,
    language: 'en',
    locales: [{ locale: 'en-US', is_native: true }],
    gender: 'feminine',
    created_at: '2024-01-01T00:00:00Z',
    is_owner: false,
    is_public: true,
    access: 'public',
    visibility: 'all',
    tagline: 'Natural American English, feminine',
    country: 'US',
  })
  assert.equal(catalogue.get('nope'), undefined)
})

test('paging with limit and starting_after walks the catalogue to an empty last page', () => {
  const seen: string[] = []
  let cursor: string | undefined
  for (;;) {
    const page = list({ limit: 5, ...(cursor && { starting_after: cursor }) })
    seen.push(...page.data.map((v) => v.id))
    assert.equal(page.next_page, page.has_more ? page.data.at(-1)?.id : null)
    if (!page.has_more) break
    cursor = page.next_page ?? undefined
  }
  assert.deepEqual(seen, all)
  assert.deepEqual(list({ starting_after: all.at(-1) }), { data: [], has_more: false, next_page: null })
  assert.deepEqual(list({ starting_after: 'unknown-id' }), { data: [], has_more: false, next_page: null })
  assert.equal(list({}).data.length, 10)
})

test('ending_before gives the page just before the cursor', () => {
  const page = list({ limit: 3, ending_before: all[5] })
  assert.deepEqual(
    page.data.map((v) => v.id),
    all.slice(2, 5),
  )
  assert.equal(page.has_more, true)
  const first = list({ limit: 3, ending_before: all[2] })
  assert.deepEqual(
    first.data.map((v) => v.id),
    all.slice(0, 2),
  )
  assert.equal(first.has_more, false)
})

test('q, language and gender filter', () => {
  assert.deepEqual(
    list({ q: 'FLITE', limit: 100 }).data.map((v) => v.name),
    ['Flite SLT', 'Flite RMS', 'Flite AWB', 'Flite KAL'],
  )
  assert.deepEqual(
    list({ q: DEFAULT_VOICE_ID.slice(0, 8) }).data.map((v) => v.id),
    [DEFAULT_VOICE_ID],
  )
  const en = list({ language: 'en', limit: 100 }).data
  assert.ok(en.length >= 5 && en.every((v) => v.language === 'en'))
  for (const tag of ['en-GB', 'en_GB', 'EN-gb']) {
    assert.deepEqual(
      list({ language: tag, limit: 100 }).data.map((v) => v.name),
      ['Flite AWB', 'eSpeak British English RP'],
      tag,
    )
  }
  assert.ok(list({ language: 'de', limit: 100 }).data.every((v) => v.locales[0]?.locale === 'de-DE'))
  assert.ok(list({ language: 'pt-BR' }).data.length === 1)
  const fem = list({ gender: 'feminine', limit: 100 }).data
  assert.ok(fem.length >= 3 && fem.every((v) => v.gender === 'feminine'))
  assert.deepEqual(
    list({ gender: 'masculine', language: 'de' }).data.map((v) => v.name),
    ['eSpeak German M'],
  )
})

test('language overrides the voice language where the engine can', () => {
  const byVoice = (name: string) => VOICE_ENTRIES.find((e) => e.engineVoice === name)!
  assert.deepEqual(resolveVoice(byVoice('en-us+f3'), 'de'), { engine: 'espeak', voice: 'de+f3' })
  assert.deepEqual(resolveVoice(byVoice('en-us+f3'), 'en-GB'), { engine: 'espeak', voice: 'en-us+f3' })
  assert.deepEqual(resolveVoice(byVoice('slt'), 'fr'), { engine: 'espeak', voice: 'fr+f3' })
  assert.deepEqual(resolveVoice(byVoice('rms'), 'pt_BR'), { engine: 'espeak', voice: 'pt-br+m3' })
  assert.deepEqual(resolveVoice(byVoice('slt'), 'en'), { engine: 'flite', voice: 'slt' })
  assert.deepEqual(resolveVoice(byVoice('de+m3'), 'zh'), { engine: 'espeak', voice: 'cmn+m3' })
  assert.deepEqual(resolveVoice(byVoice('de+m3'), 'xx'), { engine: 'espeak', voice: 'de+m3' })
})
