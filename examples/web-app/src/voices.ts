import { API_VERSION } from '@voxgate/protocol'
import type { AppConfig } from './config.ts'

export interface VoiceOption {
  id: string
  name: string
  language: string
}

/**
 * The voice list, fetched by the backend with its API key, so the browser's tokens need only the
 * `tts` grant (the minimum). One page of up to 100 voices is plenty for a picker; it is cached
 * once it has been fetched successfully.
 */
export function voiceLister(config: Readonly<AppConfig>): () => Promise<VoiceOption[]> {
  let cached: VoiceOption[] | undefined
  return async () => {
    if (cached) return cached
    const res = await fetch(`${config.voiceApiUrl.replace(/\/$/, '')}/voices?limit=100`, {
      headers: { authorization: `Bearer ${config.apiKey}`, 'cartesia-version': API_VERSION },
      signal: AbortSignal.timeout(10_000),
    })
    if (!res.ok) throw new Error(`voice list: status ${res.status}`)
    const page = (await res.json()) as { data?: { id: string; name: string; language: string }[] }
    cached = (page.data ?? []).map(({ id, name, language }) => ({ id, name, language }))
    return cached
  }
}
