/**
 * How many simultaneous real-time streams the server sustains. N WebSocket contexts start at once,
 * each speaking a text of several seconds; a stream keeps up if, after a start-up allowance, the audio
 * it has received never falls behind the wall clock (a listener would never hear a gap). The client
 * runs in a worker thread so its JSON and base64 work does not share the server's event loop.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
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
}

async function run(spec: StreamsSpec): Promise<StreamsResult> {
  const socketsNeeded = Math.ceil(spec.streams / 50)
  const sockets = await Promise.all(Array.from({ length: socketsNeeded }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`${spec.url.replace(/^https/, 'wss')}/tts/websocket`, { headers: { authorization: `Bearer ${spec.credential}` } })
    ws.once('open', () => resolve(ws)).once('error', reject)
  })))
  const lags: number[] = []
  let audioSeconds = 0
  await Promise.all(Array.from({ length: spec.streams }, (_, i) => new Promise<void>((resolve) => {
    const ws = sockets[i % socketsNeeded]!
    const id = `rt-${i}`
    const start = performance.now()
    let received = 0
    let worst = 0
    const onMessage = (data: WebSocket.RawData) => {
      const e = JSON.parse(data.toString())
      if (e.context_id !== id) return
      if (e.type === 'chunk') {
        // Before this chunk the listener has heard `received` seconds; it arrives `now` after start.
        const now = performance.now() - start
        worst = Math.max(worst, now - spec.allowanceMs - received * 1000)
        received += Buffer.from(e.data, 'base64').length / 2 / spec.sampleRate
      }
      if (e.done) {
        ws.off('message', onMessage)
        lags.push(e.type === 'done' ? worst : Infinity)
        audioSeconds += received
        resolve()
      }
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify({ model_id: 'sonic-3', transcript: spec.transcript, voice: spec.voiceId, context_id: id, output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: spec.sampleRate } }))
  })))
  for (const ws of sockets) ws.close()
  return { streams: spec.streams, keptUp: lags.filter((l) => l <= 0).length, worstLagMs: Math.max(...lags), audioSeconds }
}

if (!isMainThread && workerData?.streamsSpec) {
  run(workerData.streamsSpec as StreamsSpec).then((r) => parentPort!.postMessage(r))
}

export function realtimeStreams(spec: StreamsSpec): Promise<StreamsResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { entry: import.meta.url, streamsSpec: spec } })
    w.once('message', (r: StreamsResult) => { void w.terminate(); resolve(r) })
    w.once('error', reject)
  })
}
