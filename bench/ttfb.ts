/**
 * Time to first audio byte on each transport, measured by a client on loopback from the moment the
 * request is written to the moment the first audio arrives.
 */
import https from 'node:https'
import WebSocket from 'ws'

export type Transport = 'bytes' | 'sse' | 'websocket'

export interface TtfbTarget {
  url: string
  credential: string
  voiceId: string
}

const body = (voice: string, transcript: string, extra: object = {}) => ({
  model_id: 'sonic-3',
  transcript,
  voice,
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
  ...extra,
})

/** POST and resolve at the first body byte (bytes) or the first `event: chunk` (SSE). */
function firstHttpAudio(t: TtfbTarget, path: string, payload: object, marker?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, t.url)
    const data = JSON.stringify(payload)
    const start = performance.now()
    const req = https.request(
      url,
      { method: 'POST', headers: { authorization: `Bearer ${t.credential}`, 'content-type': 'application/json' } },
      (res) => {
        let seen = ''
        res.on('data', (chunk: Buffer) => {
          if (marker === undefined || (seen += chunk.toString()).includes(marker)) {
            resolve(performance.now() - start)
            res.destroy()
          }
        })
        res.on('error', () => undefined)
      },
    )
    req.on('error', reject)
    req.end(data)
  })
}

/** One open socket; each measurement starts a new context and resolves at its first chunk. */
export async function openSocket(t: TtfbTarget): Promise<WebSocket> {
  const ws = new WebSocket(`${t.url.replace(/^https/, 'wss')}/tts/websocket`, {
    headers: { authorization: `Bearer ${t.credential}` },
  })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  return ws
}

let contextSeq = 0
function firstWsAudio(ws: WebSocket, t: TtfbTarget, transcript: string): Promise<number> {
  return new Promise((resolve) => {
    const id = `ttfb-${contextSeq++}`
    let measured = false
    const start = performance.now()
    const onMessage = (data: WebSocket.RawData) => {
      const e = JSON.parse(data.toString())
      if (e.context_id !== id) return
      if (!measured && e.type === 'chunk') {
        measured = true
        resolve(performance.now() - start)
        ws.send(JSON.stringify({ context_id: id, cancel: true }))
      }
      if (e.done) ws.off('message', onMessage)
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify(body(t.voiceId, transcript, { context_id: id })))
  })
}

export async function ttfb(t: TtfbTarget, transport: Transport, transcript: string, ws?: WebSocket): Promise<number> {
  if (transport === 'bytes') return firstHttpAudio(t, '/tts/bytes', body(t.voiceId, transcript))
  if (transport === 'sse') return firstHttpAudio(t, '/tts/sse', body(t.voiceId, transcript), 'event: chunk')
  if (!ws) throw new Error('websocket ttfb needs an open socket')
  return firstWsAudio(ws, t, transcript)
}

/** First MP3 byte at 24 kHz from `/tts/bytes` or from OpenAI's `/v1/audio/speech` (the bench's `openai` section). */
export function firstMp3Audio(t: TtfbTarget, route: 'tts-bytes' | 'openai', transcript: string): Promise<number> {
  if (route === 'openai')
    return firstHttpAudio(t, '/v1/audio/speech', { model: 'tts-1', voice: t.voiceId, input: transcript })
  return firstHttpAudio(
    t,
    '/tts/bytes',
    body(t.voiceId, transcript, { output_format: { container: 'mp3', sample_rate: 24000, bit_rate: 128000 } }),
  )
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN
}
