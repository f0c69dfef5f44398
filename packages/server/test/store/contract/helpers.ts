import type { Store } from '../../../src/store/types.ts'

/** Runs `fn` against a fresh, empty store and closes it. */
export type WithStore = (fn: (s: Store) => Promise<void>) => Promise<void>

export const HOUR = 3_600_000

/** Runs `change` and reports how far it moved the version. */
export async function moved(store: Store, change: () => Promise<unknown>): Promise<number> {
  const before = await store.version()
  await change()
  return (await store.version()) - before
}

export const key = (id: string, hash = `hash-${id}`) => ({
  id,
  name: `key ${id}`,
  hash,
  prefix: 'sk_vx_ab',
  createdAt: 1000,
  scopes: ['mint' as const, 'speech' as const],
  policy: null,
  expiresAt: null,
})

export const webhook = (id: string, events: string[], createdAt = 1) => ({
  id,
  url: `https://hooks.example.com/${id}?token=t`,
  events,
  secret: `whsec_${Buffer.from(id.padEnd(24, '.')).toString('base64')}`,
  createdAt,
})

export const event = (id: string, type: string, createdAt: number, dedupeKey: string | null = null) => ({
  id,
  type,
  body: JSON.stringify({ type, timestamp: new Date(createdAt).toISOString(), data: { n: id } }),
  createdAt,
  dedupeKey,
})
