/**
 * `npm run bench -- stt`: speech to text with real PocketSphinx on loopback. Audio is voxgate's own
 * Flite voice (three sentences with pauses, 16 kHz). Figures: the batch real-time factor, how long a
 * partial takes after the chunk before it, how long `finalize` takes, and how many simultaneous
 * real-time streams keep up (a stream keeps up when, after its last chunk, `finalize` answers within
 * one second: less than a second of audio was waiting). Bounded: a few rounds of ~10 s each.
 */
import { performance } from 'node:perf_hooks'
import { bearer, mint } from '../packages/server/test/helpers/http.ts'
import type { TestServer } from '../packages/server/test/helpers/server.ts'
import { concatPcm, FLITE_VOICES, openStt, silence, speak, wav } from '../packages/server/test/stt/helpers.ts'
import type { SpeechService } from '../packages/server/src/tts/index.ts'

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Please call me back when you get home tonight.',
  'Turn left at the next corner and drive straight ahead.',
]
const CHUNK = 1600 // 100 ms at 16 kHz
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN

export interface StreamRun {
  /** ms from sending a chunk to the partial that followed it. */
  partialMs: number[]
  finalizeMs: number
  keptUp: boolean
}

/** Streams `pcm` in 100 ms chunks on an absolute real-time schedule, then finalizes and closes. */
async function realtimeStream(url: string, token: string, pcm: Int16Array): Promise<StreamRun> {
  const s = openStt(url, '/stt/websocket', 'model=ink-2&encoding=pcm_s16le&sample_rate=16000', bearer(token))
  await s.opened
  let lastSend = 0
  const partialMs: number[] = []
  s.ws.on('message', (data, binary) => {
    if (!binary && String(data).includes('"is_final":false')) partialMs.push(performance.now() - lastSend)
  })
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)
  const start = performance.now()
  for (let i = 0; i * CHUNK < pcm.length; i++) {
    await sleep(Math.max(0, start + i * 100 - performance.now()))
    lastSend = performance.now()
    s.ws.send(bytes.subarray(i * CHUNK * 2, (i + 1) * CHUNK * 2))
  }
  const finalizeAt = performance.now()
  s.ws.send('finalize')
  await s.next('flush_done')
  const finalizeMs = performance.now() - finalizeAt
  s.ws.send('close')
  await s.closed
  return { partialMs, finalizeMs, keptUp: finalizeMs <= 1000 }
}

export interface SttBench {
  audioSeconds: number
  batchRtf: number[]
  single: StreamRun[]
  concurrent: { streams: number; keptUp: number; partialP95Ms: number; finalizeMaxMs: number }[]
}

export async function benchStt(t: TestServer, speech: SpeechService, counts: number[]): Promise<SttBench> {
  const token = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 3600 })
  const voice = FLITE_VOICES.get('slt')!
  const parts: Int16Array[] = [silence(0.5)]
  for (const s of SENTENCES) parts.push(await speak(speech, voice, s), silence(0.8))
  const pcm = concatPcm(parts)
  const audioSeconds = pcm.length / 16000
  const batchRtf: number[] = []
  for (let i = 0; i < 3; i++) {
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(wav(pcm))]), 'bench.wav')
    form.append('model', 'ink-whisper')
    const t0 = performance.now()
    const res = await fetch(`${t.url}/stt`, { method: 'POST', headers: bearer(token), body: form })
    await res.arrayBuffer()
    if (!res.ok) throw new Error(`POST /stt answered ${res.status}`)
    batchRtf.push((performance.now() - t0) / 1000 / audioSeconds)
  }
  // Streams end right after the last word, so finalize has an utterance to finish.
  const live = pcm.subarray(0, pcm.length - 0.8 * 16000)
  const single = [await realtimeStream(t.url, token, live), await realtimeStream(t.url, token, live)]
  const concurrent: SttBench['concurrent'] = []
  for (const n of counts) {
    const runs = await Promise.all(Array.from({ length: n }, () => realtimeStream(t.url, token, live)))
    concurrent.push({
      streams: n,
      keptUp: runs.filter((r) => r.keptUp).length,
      partialP95Ms: pct(
        runs.flatMap((r) => r.partialMs),
        95,
      ),
      finalizeMaxMs: Math.max(...runs.map((r) => r.finalizeMs)),
    })
  }
  return { audioSeconds, batchRtf, single, concurrent }
}

export { pct }

const fmt = (n: number, d = 1) => n.toFixed(d)

/** The `stt` section of `npm run bench`: its own server (recogniser cap 8) and a Flite speech service. */
export async function sttSection(): Promise<void> {
  const { startTestServer } = await import('../packages/server/test/helpers/server.ts')
  const { createSpeechService } = await import('../packages/server/src/tts/index.ts')
  const speech = await createSpeechService({ workers: 1 })
  const t = await startTestServer({ logLevel: 'silent', sttMaxStreams: 8, mintPerMinute: 0 })
  try {
    console.log('\n## stt (PocketSphinx, 16 kHz pcm_s16le, Flite audio, 100 ms chunks)')
    const b = await benchStt(t, speech, [2, 4, 6, 8])
    console.log(`audio per stream: ${fmt(b.audioSeconds)} s (the baseline: real time)`)
    console.log(
      `POST /stt real-time factor: ${b.batchRtf.map((r) => fmt(r, 3)).join(', ')} (processing time ÷ audio time; warm decoder)`,
    )
    const partials = b.single.flatMap((r) => r.partialMs)
    console.log(
      `one real-time stream: partial after its chunk p50 ${fmt(pct(partials, 50))} ms, p95 ${fmt(pct(partials, 95))} ms (${partials.length} partials; ÷ 100 ms chunk = ${fmt(pct(partials, 50) / 100, 2)})`,
    )
    console.log(`finalize → flush_done: ${b.single.map((r) => fmt(r.finalizeMs)).join(', ')} ms`)
    for (const c of b.concurrent) {
      console.log(
        `${c.streams} simultaneous real-time streams: ${c.keptUp}/${c.streams} kept up, partial p95 ${fmt(c.partialP95Ms)} ms, slowest finalize ${fmt(c.finalizeMaxMs)} ms`,
      )
    }
  } finally {
    await t.close()
    await speech.close()
  }
}
