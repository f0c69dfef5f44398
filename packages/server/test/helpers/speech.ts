import type { ServerConfigInput } from '../../src/config.ts'
import { bearer, call } from './http.ts'
import { startTestServer, type TestServer } from './server.ts'

/** The first voice of the catalogue (stable ids, so any test may hold on to it). */
export async function firstVoice(url: string, apiKey: string, query = ''): Promise<string> {
  const res = await call(url, `/voices?limit=1${query}`, { headers: bearer(apiKey) })
  return res.json.data[0].id
}

/** A test server plus the voice its speech tests use, for a file's `before` hook. */
export async function startSpeechServer(
  config: Partial<ServerConfigInput> = {},
): Promise<{ t: TestServer; voice: string }> {
  const t = await startTestServer(config)
  return { t, voice: await firstVoice(t.url, t.apiKey) }
}

export const raw = (encoding = 'pcm_s16le', sample_rate = 16000) =>
  ({ container: 'raw', encoding, sample_rate }) as const

/** POSTs a TTS request and returns the status, headers and whole body as bytes. */
export async function ttsBytes(
  url: string,
  credential: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  const res = await fetch(`${url}/tts/bytes`, {
    method: 'POST',
    headers: { ...bearer(credential), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) }
}

/** Splits an SSE body into frames, checking the exact `event:` + one `data:` framing. */
export function parseSse(text: string): { event: string; data: any }[] {
  if (!text.endsWith('\n\n')) throw new Error('SSE body does not end with a blank line')
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      const m = /^event: ([a-z_]+)\ndata: (.+)$/.exec(frame)
      if (!m) throw new Error(`bad SSE frame: ${frame.slice(0, 80)}`)
      return { event: m[1]!, data: JSON.parse(m[2]!) }
    })
}
