import { mergeLedger } from '../ledger-merge.ts'
import type { UsageStore } from '../usage.ts'
import type { PgContext } from './context.ts'

/**
 * Adds $2 to a counter's row unless the total would pass the budget $3 (NULL: none), in one
 * statement: the row lock of ON CONFLICT makes concurrent instances queue, never both pass.
 */
const reserveIn = (table: string, column: string): string => `INSERT INTO ${table} AS u (jti, ${column}, expires_at)
  SELECT $1::text, $2::bigint, $4::bigint WHERE $3::bigint IS NULL OR $2::bigint <= $3::bigint
  ON CONFLICT (jti) DO UPDATE SET ${column} = u.${column} + EXCLUDED.${column}
    WHERE $3::bigint IS NULL OR u.${column} + EXCLUDED.${column} <= $3::bigint
  RETURNING ${column}`
const RESERVE = reserveIn('token_usage', 'characters')
const RESERVE_AUDIO = reserveIn('token_audio', 'ms')

/** One statement: the ledger row and the refunds land together or not at all. */
const SETTLE = `WITH ledger AS (
    INSERT INTO usage_ledger AS l (day, key_id, sub, characters, audio_ms_produced, audio_ms_transcribed, streams, audio_ms_voice_changed,
      characters_fallback, characters_cached)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $11, $12, $13) ON CONFLICT (day, key_id, sub) DO UPDATE SET
      characters = l.characters + EXCLUDED.characters, audio_ms_produced = l.audio_ms_produced + EXCLUDED.audio_ms_produced,
      audio_ms_transcribed = l.audio_ms_transcribed + EXCLUDED.audio_ms_transcribed, streams = l.streams + EXCLUDED.streams,
      audio_ms_voice_changed = l.audio_ms_voice_changed + EXCLUDED.audio_ms_voice_changed,
      characters_fallback = l.characters_fallback + EXCLUDED.characters_fallback,
      characters_cached = l.characters_cached + EXCLUDED.characters_cached RETURNING 1),
  chars AS (UPDATE token_usage SET characters = GREATEST(0, characters - $9) WHERE jti = ANY($8::text[]) AND $9 > 0 RETURNING 1),
  audio AS (UPDATE token_audio SET ms = GREATEST(0, ms - $10) WHERE jti = ANY($8::text[]) AND $10 > 0 RETURNING 1)
  SELECT 1`

type Figures = Record<
  | 'characters'
  | 'audio_ms_produced'
  | 'audio_ms_transcribed'
  | 'audio_ms_voice_changed'
  | 'characters_fallback'
  | 'characters_cached'
  | 'streams',
  string
>

/** Usage in PostgreSQL (usage.ts states the contract). */
export function pgUsage(ctx: PgContext): UsageStore {
  const { query } = ctx
  const used = async (sql: string, jti: string) => Number((await query<{ v: string }>(sql, [jti])).rows[0]?.v ?? 0)
  const usedCharacters = (jti: string) => used('SELECT characters AS v FROM token_usage WHERE jti = $1', jti)
  const usedAudio = (jti: string) => used('SELECT ms AS v FROM token_audio WHERE jti = $1', jti)

  return {
    async reserveCharacters(jti, characters, budget, expiresAt) {
      const row = (await query<{ characters: string }>(RESERVE, [jti, characters, budget ?? null, expiresAt])).rows[0]
      return row ? { granted: true, used: Number(row.characters) } : { granted: false, used: await usedCharacters(jti) }
    },
    async refundCharacters(jti, characters) {
      if (characters > 0)
        await query('UPDATE token_usage SET characters = GREATEST(0, characters - $1) WHERE jti = $2', [
          characters,
          jti,
        ])
    },
    usedCharacters,
    async reserveAudio(jti, ms, budgetMs, expiresAt) {
      const row = (await query<{ ms: string }>(RESERVE_AUDIO, [jti, ms, budgetMs ?? null, expiresAt])).rows[0]
      return row ? { granted: true, used: Number(row.ms) } : { granted: false, used: await usedAudio(jti) }
    },
    async refundAudio(jti, ms) {
      if (ms > 0) await query('UPDATE token_audio SET ms = GREATEST(0, ms - $1) WHERE jti = $2', [ms, jti])
    },
    usedAudio,

    async settleUsage(d, refund) {
      await query(SETTLE, [
        d.day,
        d.keyId,
        d.sub ?? '',
        d.characters,
        Math.round(d.audioMsProduced),
        Math.round(d.audioMsTranscribed),
        d.streams,
        refund?.keys ?? [],
        refund?.characters ?? 0,
        Math.floor(refund?.audioMs ?? 0),
        Math.round(d.audioMsVoiceChanged ?? 0),
        d.charactersFallback ?? 0,
        d.charactersCached ?? 0,
      ])
    },

    async recordRefusal(r) {
      await query(
        `INSERT INTO usage_refusals AS u (day, key_id, sub, reason, count) VALUES ($1, $2, $3, $4, 1)
        ON CONFLICT (day, key_id, sub, reason) DO UPDATE SET count = u.count + 1`,
        [r.day, r.keyId, r.sub ?? '', r.reason],
      )
    },

    async queryUsage(f) {
      const params = [f.from, f.to, f.keyId ?? null, f.sub === undefined ? null : (f.sub ?? '')]
      const where = 'day >= $1 AND day <= $2 AND ($3::text IS NULL OR key_id = $3) AND ($4::text IS NULL OR sub = $4)'
      const refusals = (
        await query<{ day: string; key_id: string; sub: string; reason: string; count: string }>(
          `SELECT * FROM usage_refusals WHERE ${where}`,
          params,
        )
      ).rows.map((r) => ({
        day: r.day,
        keyId: r.key_id,
        sub: r.sub === '' ? null : r.sub,
        reason: r.reason,
        count: Number(r.count),
      }))
      const { rows } = await query<Figures & { day: string; key_id: string; sub: string }>(
        `SELECT * FROM usage_ledger WHERE ${where} ORDER BY day, key_id, sub`,
        params,
      )
      const figures = rows.map((r) => ({
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
      }))
      return mergeLedger(figures, refusals)
    },
  }
}
