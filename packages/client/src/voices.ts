import type { Voice, VoicePage } from '@voxgate/protocol'
import { apiFetch, type ApiContext } from './lib/http.ts'
import type { TokenSource } from './token-source.ts'

/** Filters of `GET /voices` (PROTOCOL.md §7.1). */
export interface VoicesQuery {
  /** Page size, 1..100. @default 10 (server) */
  limit?: number
  q?: string
  language?: string
  gender?: 'masculine' | 'feminine' | 'gender_neutral'
  starting_after?: string
}

/**
 * The voice catalogue; needs a token with the `voices` grant.
 * @example
 * for await (const voice of client.voices.list({ language: 'en' })) console.log(voice.id, voice.name)
 */
export class Voices {
  /** @internal Use `client.voices`. */
  constructor(
    private readonly api: ApiContext,
    private readonly tokens: TokenSource,
  ) {}

  /** One page. @example const { data, has_more } = await client.voices.page({ limit: 5 }) */
  async page(query: VoicesQuery = {}): Promise<VoicePage> {
    const res = await this.tokens.withToken((t) =>
      apiFetch(this.api, { method: 'GET', path: '/voices', query: { ...query } }, t),
    )
    return (await res.json()) as VoicePage
  }

  /**
   * Every voice matching `query`, fetching page after page (`starting_after` = the last id) until a
   * page is empty or says `has_more: false`.
   * @example for await (const v of client.voices.list()) ids.push(v.id)
   */
  async *list(query: VoicesQuery = {}): AsyncGenerator<Voice> {
    let after = query.starting_after
    for (;;) {
      const page = await this.page({ ...query, ...(after !== undefined && { starting_after: after }) })
      yield* page.data
      const last = page.data[page.data.length - 1]
      if (!page.has_more || !last) return
      after = last.id
    }
  }

  /** One voice by id. @example const v = await client.voices.get('en-us-1') */
  async get(id: string): Promise<Voice> {
    const res = await this.tokens.withToken((t) =>
      apiFetch(this.api, { method: 'GET', path: `/voices/${encodeURIComponent(id)}` }, t),
    )
    return (await res.json()) as Voice
  }
}
