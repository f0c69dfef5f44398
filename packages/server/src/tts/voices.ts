import type { Voice, VoicePage, VoicesQuery } from '@voxgate/protocol'
import type { VoiceCatalogue } from './types.ts'
import { VOICE_ENTRIES, type VoiceEntry } from './voice-table.ts'

/** `en`, `en-GB`, `en_GB` and `EN-gb` all become `en-gb`. */
export function normalizeLanguage(tag: string): string {
  return tag.trim().replace(/_/g, '-').toLowerCase()
}

/** A voice matches a language tag when the tag is its language or a prefix of its locale. */
function speaks(voice: Voice, tag: string): boolean {
  const want = normalizeLanguage(tag)
  if (voice.language === want) return true
  return voice.locales.some(({ locale }) => {
    const have = normalizeLanguage(locale)
    return have === want || have.startsWith(`${want}-`)
  })
}

function matches(voice: Voice, query: VoicesQuery): boolean {
  if (query.gender && voice.gender !== query.gender) return false
  if (query.language && !speaks(voice, query.language)) return false
  if (query.q) {
    const q = query.q.toLowerCase()
    if (![voice.name, voice.description, voice.id].some((s) => s.toLowerCase().includes(q))) return false
  }
  return true
}

/**
 * Cursor paging in catalogue order, Stripe style (Cartesia's `starting_after`/`ending_before`).
 * Filters apply first; a cursor is placed by its catalogue position, so it works even when the cursor
 * voice itself is filtered out. An unknown cursor id gives an empty page rather than restarting.
 */
export function listVoices(entries: readonly VoiceEntry[], query: VoicesQuery): VoicePage {
  const index = new Map(entries.map((e, i) => [e.voice.id, i]))
  const cursorOf = (id: string | undefined) => (id === undefined ? undefined : (index.get(id) ?? -1))
  const after = cursorOf(query.starting_after)
  const before = cursorOf(query.ending_before)
  if (after === -1 || before === -1) return { data: [], has_more: false, next_page: null }
  const candidates = entries
    .map((e, i) => ({ voice: e.voice, i }))
    .filter(
      ({ voice, i }) =>
        (after === undefined || i > after) && (before === undefined || i < before) && matches(voice, query),
    )
  // ending_before pages backwards: the page is the `limit` voices just before the cursor.
  const backwards = before !== undefined && after === undefined
  const page = backwards ? candidates.slice(-query.limit) : candidates.slice(0, query.limit)
  const hasMore = candidates.length > page.length
  const data = page.map((c) => c.voice)
  return { data, has_more: hasMore, next_page: hasMore ? (data[data.length - 1]?.id ?? null) : null }
}

export function createVoiceCatalogue(
  entries: readonly VoiceEntry[] = VOICE_ENTRIES,
): VoiceCatalogue & { entry(id: string): VoiceEntry | undefined } {
  const byId = new Map(entries.map((e) => [e.voice.id, e]))
  return {
    list: (query) => listVoices(entries, query),
    get: (id) => byId.get(id)?.voice,
    entry: (id) => byId.get(id),
  }
}
