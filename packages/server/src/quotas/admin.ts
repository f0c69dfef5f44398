import { VoxgateError } from '@voxgate/protocol'
import type { Clock } from '../clock.ts'
import { randomId } from '../ids.ts'
import { auditDraft, type AuditOrigin } from '../store/audit-types.ts'
import type { QuotaRecord, Store } from '../store/types.ts'
import { alignWithLedger } from './ledger-seed.ts'
import { periodOf, quotaCounter } from './period.ts'
import { alertThresholds } from './thresholds.ts'
import { MAX_QUOTAS, type QuotaPut, type QuotaView } from './schema.ts'

/**
 * Setting, listing and removing quotas: the one implementation behind `PUT/GET/DELETE /quotas` and
 * `voxgate quotas`. Errors are VoxgateErrors naming the field.
 */
export class QuotaAdmin {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * Sets the quota for the request's (sub, key_id, period), or changes the caps of the one there.
   * Its counters start from what the usage ledger already holds for the current period, so a quota
   * set at noon counts the morning (streams still open then count from their next reservation).
   */
  async put(input: QuotaPut, origin: AuditOrigin): Promise<{ quota: QuotaView; created: boolean }> {
    if (input.key_id !== undefined && !(await this.store.listApiKeys()).some((k) => k.id === input.key_id)) {
      throw new VoxgateError('invalid_request', 'Invalid request body: key_id: no API key has this id.')
    }
    const now = this.clock.now()
    const quotas = await this.store.listQuotas()
    const existing = quotas.find(
      (q) => q.sub === (input.sub ?? null) && q.keyId === (input.key_id ?? null) && q.period === input.period,
    )
    if (!existing && quotas.length >= MAX_QUOTAS) {
      throw new VoxgateError(
        'invalid_request',
        `Invalid request body: at most ${MAX_QUOTAS} quotas; remove some first.`,
      )
    }
    const record = {
      id: randomId('quota'),
      sub: input.sub ?? null,
      keyId: input.key_id ?? null,
      period: input.period,
      characters: input.characters ?? null,
      audioSeconds: input.audio_seconds ?? null,
      alertAt: input.alert_at ?? null,
      createdAt: now,
    }
    // The store fills in the target: the id the quota keeps (an existing one's, on a change).
    const audit = auditDraft(origin, {
      at: now,
      action: 'quota.set',
      target: { type: 'quota', id: record.id },
      details: {
        sub: record.sub,
        key_id: record.keyId,
        period: record.period,
        characters: record.characters,
        audio_seconds: record.audioSeconds,
      },
    })
    const { quota, created } = await this.store.putQuota(record, audit)
    await alignWithLedger(this.store, quota, now)
    return { quota: await this.#view(quota, now), created }
  }

  async list(): Promise<QuotaView[]> {
    const now = this.clock.now()
    return Promise.all((await this.store.listQuotas()).map((q) => this.#view(q, now)))
  }

  async get(id: string): Promise<QuotaView | undefined> {
    const q = (await this.store.listQuotas()).find((x) => x.id === id)
    return q && this.#view(q, this.clock.now())
  }

  remove(id: string, origin: AuditOrigin): Promise<boolean> {
    const at = this.clock.now()
    return this.store.deleteQuota(
      id,
      auditDraft(origin, { at, action: 'quota.removed', target: { type: 'quota', id } }),
    )
  }

  async #view(q: QuotaRecord, now: number): Promise<QuotaView> {
    const span = periodOf(q.period, now)
    const key = quotaCounter(q.id, span.key)
    return {
      id: q.id,
      sub: q.sub,
      key_id: q.keyId,
      period: q.period,
      characters: q.characters,
      audio_seconds: q.audioSeconds,
      alert_at: [...alertThresholds(q)],
      created_at: new Date(q.createdAt).toISOString(),
      period_ends: new Date(span.endMs).toISOString(),
      used: {
        characters: q.characters === null ? null : await this.store.usedCharacters(key),
        audio_seconds: q.audioSeconds === null ? null : Math.round(await this.store.usedAudio(key)) / 1000,
      },
    }
  }
}
