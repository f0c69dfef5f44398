import { mergeLedger } from '../ledger-merge.ts'
import type { Reservation, UsageDelta, UsageStore } from '../usage.ts'
import type { SqliteContext } from './context.ts'
import { SettlementBatch, type Settlements } from './settlement-batch.ts'

export const USAGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS token_usage (
  jti TEXT PRIMARY KEY, characters INTEGER NOT NULL CHECK (characters >= 0), expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS token_audio (
  jti TEXT PRIMARY KEY, ms INTEGER NOT NULL CHECK (ms >= 0), expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS usage_ledger (
  day TEXT NOT NULL, key_id TEXT NOT NULL, sub TEXT NOT NULL, characters INTEGER NOT NULL, audio_ms_produced INTEGER NOT NULL,
  audio_ms_transcribed INTEGER NOT NULL, streams INTEGER NOT NULL, audio_ms_voice_changed INTEGER NOT NULL DEFAULT 0,
  characters_fallback INTEGER NOT NULL DEFAULT 0, characters_cached INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, key_id, sub));
CREATE TABLE IF NOT EXISTS usage_refusals (
  day TEXT NOT NULL, key_id TEXT NOT NULL, sub TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (day, key_id, sub, reason));
`

/** Housekeeping: the counters of tokens dead before the cutoff. */
export const PRUNE_USAGE = [
  'DELETE FROM token_usage WHERE expires_at < ?',
  'DELETE FROM token_audio WHERE expires_at < ?',
]

interface LedgerRow {
  day: string
  key_id: string
  sub: string
  characters: number
  audio_ms_produced: number
  audio_ms_transcribed: number
  audio_ms_voice_changed: number
  characters_fallback: number
  characters_cached: number
  streams: number
}
const toUsage = (r: LedgerRow): UsageDelta => ({
  day: r.day,
  keyId: r.key_id,
  sub: r.sub === '' ? null : r.sub,
  characters: Number(r.characters),
  audioMsProduced: Number(r.audio_ms_produced),
  audioMsTranscribed: Number(r.audio_ms_transcribed),
  audioMsVoiceChanged: Number(r.audio_ms_voice_changed),
  charactersFallback: Number(r.characters_fallback),
  charactersCached: Number(r.characters_cached),
  streams: Number(r.streams),
})

type Filter = [string, string, string | null, string | null, string | null, string | null]

const LEDGER_ADD = `INSERT INTO usage_ledger (day, key_id, sub, characters, audio_ms_produced, audio_ms_transcribed, streams,
    audio_ms_voice_changed, characters_fallback, characters_cached)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, key_id, sub) DO UPDATE SET characters = characters + excluded.characters,
  audio_ms_produced = audio_ms_produced + excluded.audio_ms_produced, audio_ms_transcribed = audio_ms_transcribed + excluded.audio_ms_transcribed,
  streams = streams + excluded.streams, audio_ms_voice_changed = audio_ms_voice_changed + excluded.audio_ms_voice_changed,
  characters_fallback = characters_fallback + excluded.characters_fallback, characters_cached = characters_cached + excluded.characters_cached`

/**
 * Usage in SQLite (usage.ts states the contract), with a way to write what is still batched (the
 * store's `close`).
 */
export function sqliteUsage(ctx: SqliteContext): UsageStore & { flush(): void } {
  const { db } = ctx
  const stmt = {
    usage: db.prepare<[string], { characters: number }>('SELECT characters FROM token_usage WHERE jti = ?'),
    addUsage: db.prepare(
      'INSERT INTO token_usage (jti, characters, expires_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO UPDATE SET characters = characters + excluded.characters',
    ),
    refundUsage: db.prepare('UPDATE token_usage SET characters = MAX(0, characters - ?) WHERE jti = ?'),
    audio: db.prepare<[string], { ms: number }>('SELECT ms FROM token_audio WHERE jti = ?'),
    addAudio: db.prepare(
      'INSERT INTO token_audio (jti, ms, expires_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO UPDATE SET ms = ms + excluded.ms',
    ),
    refundAudio: db.prepare('UPDATE token_audio SET ms = MAX(0, ms - ?) WHERE jti = ?'),
    ledgerAdd: db.prepare(LEDGER_ADD),
    ledger: db.prepare<Filter, LedgerRow>(`SELECT * FROM usage_ledger
      WHERE day >= ? AND day <= ? AND (? IS NULL OR key_id = ?) AND (? IS NULL OR sub = ?) ORDER BY day, key_id, sub`),
    refusalAdd: db.prepare(
      'INSERT INTO usage_refusals (day, key_id, sub, reason, count) VALUES (?, ?, ?, ?, 1) ON CONFLICT (day, key_id, sub, reason) DO UPDATE SET count = count + 1',
    ),
    refusals: db.prepare<Filter, { day: string; key_id: string; sub: string; reason: string; count: number }>(
      `SELECT * FROM usage_refusals WHERE day >= ? AND day <= ? AND (? IS NULL OR key_id = ?) AND (? IS NULL OR sub = ?)`,
    ),
  }

  // IMMEDIATE takes the write lock before reading, so processes sharing the file cannot both read
  // the same usage and both grant the last characters of a budget. Each made once (see below).
  const reserveIn = (used: (jti: string) => number, add: (jti: string, amount: number, expiresAt: number) => unknown) =>
    db.transaction((jti: string, amount: number, budget: number | undefined, expiresAt: number): Reservation => {
      const before = used(jti)
      if (budget !== undefined && before + amount > budget) return { granted: false, used: before }
      add(jti, amount, expiresAt)
      return { granted: true, used: before + amount }
    }).immediate
  const usedCharacters = (jti: string) => stmt.usage.get(jti)?.characters ?? 0
  const usedAudio = (jti: string) => stmt.audio.get(jti)?.ms ?? 0
  const reserveCharacters = reserveIn(usedCharacters, (jti, n, expiresAt) => stmt.addUsage.run(jti, n, expiresAt))
  const reserveAudio = reserveIn(usedAudio, (jti, ms, expiresAt) => stmt.addAudio.run(jti, ms, expiresAt))

  const addRow = (d: UsageDelta) =>
    stmt.ledgerAdd.run(
      d.day,
      d.keyId,
      d.sub ?? '',
      d.characters,
      Math.round(d.audioMsProduced),
      Math.round(d.audioMsTranscribed),
      d.streams,
      Math.round(d.audioMsVoiceChanged ?? 0),
      d.charactersFallback ?? 0,
      d.charactersCached ?? 0,
    )
  // One transaction for every settlement of one event-loop turn (settlement-batch.ts). Made once:
  // better-sqlite3's `db.transaction` builds four wrapper functions each time it is called, which
  // cost as much as the commit itself (12.4 against 6.9 CPU µs for a batch of one row).
  const inTransaction = db.transaction(({ deltas, refunds }: Settlements) => {
    for (const d of deltas) addRow(d)
    for (const r of refunds) {
      if (r.characters > 0) stmt.refundUsage.run(r.characters, r.key)
      if (r.audioMs > 0) stmt.refundAudio.run(Math.floor(r.audioMs), r.key)
    }
  })
  // A batch of one row and no refund is one statement, atomic and durable on its own (autocommit):
  // no BEGIN and COMMIT around it.
  const writeSettlements = (batch: Settlements) => {
    if (batch.deltas.length === 1 && batch.refunds.length === 0) addRow(batch.deltas[0]!)
    else inTransaction(batch)
  }
  const settlements = new SettlementBatch(writeSettlements)
  // Reads and reservations see every settlement made before them, as if none waited in the batch.
  const settled = (key: string) => {
    if (settlements.refunds(key)) settlements.flush()
  }

  return {
    async reserveCharacters(jti, characters, budget, expiresAt) {
      settled(jti)
      return reserveCharacters(jti, characters, budget, expiresAt)
    },
    async refundCharacters(jti, characters) {
      if (characters > 0) stmt.refundUsage.run(characters, jti)
    },
    async usedCharacters(jti) {
      settled(jti)
      return usedCharacters(jti)
    },
    async reserveAudio(jti, ms, budgetMs, expiresAt) {
      settled(jti)
      return reserveAudio(jti, ms, budgetMs, expiresAt)
    },
    async refundAudio(jti, ms) {
      if (ms > 0) stmt.refundAudio.run(ms, jti)
    },
    async usedAudio(jti) {
      settled(jti)
      return usedAudio(jti)
    },
    settleUsage: (d, refund) => settlements.add(d, refund),
    async recordRefusal(r) {
      stmt.refusalAdd.run(r.day, r.keyId, r.sub ?? '', r.reason)
    },
    async queryUsage(f) {
      settlements.flush()
      const key = f.keyId ?? null
      const sub = f.sub === undefined ? null : (f.sub ?? '')
      const refusals = stmt.refusals.all(f.from, f.to, key, key, sub, sub).map((r) => ({
        day: r.day,
        keyId: r.key_id,
        sub: r.sub === '' ? null : r.sub,
        reason: r.reason,
        count: Number(r.count),
      }))
      return mergeLedger(stmt.ledger.all(f.from, f.to, key, key, sub, sub).map(toUsage), refusals)
    },
    flush: () => settlements.flush(),
  }
}
