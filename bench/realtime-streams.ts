/**
 * How many simultaneous real-time streams the server sustains. N WebSocket contexts start at once,
 * each speaking a text of several seconds. A stream keeps up if, once its first audio has arrived
 * and the player has buffered `allowanceMs`, the audio received never falls behind the wall clock (a
 * listener would never hear a gap). Time to first audio under that load is reported beside it. The
 * client runs in a worker thread so its JSON and base64 work does not share the server's event loop.
 */
import { inWorker, serveInWorker } from './in-worker.ts'
import WebSocket from 'ws'

export interface StreamsSpec {
  url: string
  credential: string
  voiceId: string
  streams: number
  transcript: string
  sampleRate: number
  /** Audio may lag the wall clock by at most this much (the player's start-up buffer). */
  allowanceMs: number
}

export interface StreamsResult {
  streams: number
  keptUp: number
  worstLagMs: number
  audioSeconds: number
  firstAudioP50Ms: number
  firstAudioMaxMs: number
}

async function run(spec: StreamsSpec): Promise<StreamsResult> {
  const socketsNeeded = Math.ceil(spec.streams / 50)
  const sockets = await Promise.all(
    Array.from(
      { length: socketsNeeded },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${spec.url.replace(/^https/, 'wss')}/tts/websocket`, {
            headers: { authorization: `Bearer ${spec.credential}` },
          })
          ws.once('open', () => resolve(ws)).once('error', reject)
        }),
    ),
  )
  const lags: number[] = []
  const firsts: number[] = []
  let audioSeconds = 0
  // One listener per socket, parsing each message once for the context it names: a listener per
  // context parsed every message once per context on its socket (50×), and that client thread took a
  // core from the two the server's speech workers share, which delayed every stream's first audio.
  const contexts = new Map<string, (e: { type: string; data?: string; done?: boolean }) => void>()
  for (const ws of sockets) {
    ws.on('message', (data: WebSocket.RawData) => {
      const e = JSON.parse(data.toString())
      contexts.get(e.context_id)?.(e)
    })
  }
  await Promise.all(
    Array.from(
      { length: spec.streams },
      (_, i) =>
        new Promise<void>((resolve) => {
          const ws = sockets[i % socketsNeeded]!
          const id = `rt-${i}`
          const start = performance.now()
          let first: number | undefined
          let received = 0
          let worst = 0
          const onMessage = (e: { type: string; data?: string; done?: boolean }) => {
            if (e.type === 'chunk') {
              // Playback starts at the first chunk plus the buffer; before this chunk the listener can have
              // heard at most `received` seconds, and this chunk arrives `now` into playback.
              first ??= performance.now()
              const now = performance.now() - first
              worst = Math.max(worst, now - spec.allowanceMs - received * 1000)
              received += Buffer.from(e.data ?? '', 'base64').length / 2 / spec.sampleRate
            }
            if (e.done) {
              contexts.delete(id)
              lags.push(e.type === 'done' ? worst : Infinity)
              firsts.push((first ?? performance.now()) - start)
              audioSeconds += received
              resolve()
            }
          }
          contexts.set(id, onMessage)
          ws.send(
            JSON.stringify({
              model_id: 'sonic-3',
              transcript: spec.transcript,
              voice: spec.voiceId,
              context_id: id,
              output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: spec.sampleRate },
            }),
          )
        }),
    ),
  )
  for (const ws of sockets) ws.close()
  firsts.sort((a, b) => a - b)
  return {
    streams: spec.streams,
    keptUp: lags.filter((l) => l <= 0).length,
    worstLagMs: Math.max(...lags),
    audioSeconds,
    firstAudioP50Ms: firsts[Math.floor(firsts.length / 2)] ?? NaN,
    firstAudioMaxMs: firsts.at(-1) ?? NaN,
  }
}

serveInWorker('streams', run)

export const realtimeStreams = (spec: StreamsSpec): Promise<StreamsResult> => inWorker(import.meta.url, 'streams', spec)
