/**
 * `npm run bench -- gateway` (issue 12, item 9): what gateway mode costs a client. Three processes:
 * an upstream voxgate (a real Cartesia-compatible API with its own key), a gateway voxgate relaying
 * to it (`upstreamUrl`, `upstreamApiKey`), each a child process of its own so they never share an
 * event loop, and the client here. "Direct" is the client straight to the upstream with a token
 * minted there; "gateway" is the same client through the gateway with a token minted at the gateway
 * (what a browser holds in each setup; grant `tts`, a `sub`, no limits).
 *
 * - Time to first audio on `/tts/bytes`, `/tts/sse` and `/tts/websocket`, one sentence, 24 kHz
 *   `pcm_s16le`, on kept-alive connections (one open socket per side for the WebSocket, a new context
 *   per measurement); each measurement reads its answer to the end before the next starts. Rounds are
 *   interleaved (every round measures both sides on every transport; direct first in even rounds,
 *   gateway first in odd ones), so both sides see the same moments of a shared machine. Printed: p50
 *   and p95 of each side and the overhead (gateway minus direct) at each. Target: + ≤ 5 ms at p50,
 *   reported, never enforced.
 * - Relayed audio throughput: 50 WebSocket streams at once (50 sockets per side, opened once, one
 *   context each per round, the same twelve sentences), seconds of audio received per wall second,
 *   direct vs gateway in interleaved rounds; the client runs in a worker thread. Printed as a ratio
 *   (median and spread over rounds).
 *
 * The upstream speaks with the deterministic test engine (inline, one tone per word): its first audio
 * is ready within a millisecond and it makes audio as fast as the CPU allows, so the time to first
 * audio difference is the relay's own cost rather than synthesis jitter, and throughput is the
 * relay's ceiling, not the engine's. With a real engine both would look smaller. Loopback only;
 * about a minute.
 */
import { fork, type ChildProcess } from 'node:child_process'
import https from 'node:https'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'
import WebSocket from 'ws'
import { inWorker, serveInWorker } from './in-worker.ts'
import { percentile } from './ttfb.ts'

// The server, its test helpers and bench/tts.ts are imported where they are used, so the worker
// thread (the throughput client) loads none of them.

const TTFB_WARMUP_ROUNDS = 10
const TTFB_ROUNDS = 200
const STREAMS = 50
const THROUGHPUT_ROUNDS = 6
const TARGET_OVERHEAD_P50_MS = 5
const SAMPLE_RATE = 24000
const FORMAT = { container: 'raw', encoding: 'pcm_s16le', sample_rate: SAMPLE_RATE } as const
const TRANSPORTS = ['bytes', 'sse', 'websocket'] as const
type Transport = (typeof TRANSPORTS)[number]
type SideName = 'direct' | 'gateway'

const fmt = (n: number, d = 1) => n.toFixed(d)
const signed = (n: number, d = 1) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(d)}`
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

// ---------------------------------------------------------------------------------------------
// The servers, each in a child process of its own.

type Role = 'upstream' | 'gateway'
interface Ready {
  url: string
  apiKey: string
}

/** In the child: one test server (deterministic engine, rate limits off, silent), answering `close`. */
async function serve(role: Role): Promise<void> {
  const base = { logLevel: 'silent' as const, mintPerMinute: 0, ttsStreamsPerMinute: 0 }
  // The gateway learns its upstream over IPC (the key stays out of the process list).
  const upstream =
    role === 'gateway'
      ? await new Promise<Ready>((resolve) => process.once('message', (m) => resolve(m as Ready)))
      : undefined
  const { startTestServer } = await import('../packages/server/test/helpers/server.ts')
  const { createLogger } = await import('../packages/server/src/logger.ts')
  const t = await startTestServer(
    upstream ? { ...base, upstreamUrl: upstream.url, upstreamApiKey: upstream.apiKey } : base,
    { logger: createLogger('silent') },
  )
  process.on('message', async (m) => {
    if (m !== 'close') return
    await t.close()
    process.exit(0)
  })
  process.send!({ url: t.url, apiKey: t.apiKey } satisfies Ready)
}

interface Server extends Ready {
  close(): Promise<void>
}

async function startProcess(role: Role, upstream?: Ready): Promise<Server> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--gateway-bench-serve', role], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  // Never leave a server behind if the bench fails.
  process.once('exit', () => child.kill())
  const ready = new Promise<Ready>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the ${role} server exited (${code})`))
    child.once('exit', onExit)
    child.once('message', (m) => {
      child.off('exit', onExit)
      resolve(m as Ready)
    })
  })
  if (upstream) child.send(upstream)
  return {
    ...(await ready),
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send('close')
      await exited
    },
  }
}

if (!isMainThread) {
  // A worker thread loads this module only for the throughput client (serveInWorker, below).
} else if (process.argv[2] === '--gateway-bench-serve') {
  await serve(process.argv[3] as Role)
}

// ---------------------------------------------------------------------------------------------
// Time to first audio.

interface Side {
  name: SideName
  url: string
  token: string
  voice: string
  transcript: string
  agent: https.Agent
  ws: WebSocket
}

const ttsBody = (voice: string, transcript: string, extra: object = {}) => ({
  model_id: 'sonic-3',
  transcript,
  voice,
  output_format: FORMAT,
  ...extra,
})

/** POST, time to the first audio byte (bytes) or the first `chunk` event (SSE), then read to the end. */
function httpFirstAudio(side: Side, transport: 'bytes' | 'sse'): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(ttsBody(side.voice, side.transcript))
    let first: number | undefined
    let seen = ''
    const start = performance.now()
    const req = https.request(
      new URL(`/tts/${transport}`, side.url),
      {
        method: 'POST',
        agent: side.agent,
        headers: { authorization: `Bearer ${side.token}`, 'content-type': 'application/json' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          return reject(new Error(`${side.name} /tts/${transport}: HTTP ${res.statusCode}`))
        }
        res.on('data', (chunk: Buffer) => {
          if (first !== undefined) return
          if (transport === 'bytes' || (seen += chunk.toString()).includes('event: chunk'))
            first = performance.now() - start
        })
        res.on('end', () =>
          first === undefined ? reject(new Error(`${side.name} /tts/${transport}: no audio`)) : resolve(first),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

let contextSeq = 0
/** A new context on the side's open socket: time to its first chunk, then wait for its `done`. */
function wsFirstAudio(side: Side): Promise<number> {
  return new Promise((resolve, reject) => {
    const id = `gw-ttfb-${contextSeq++}`
    let first: number | undefined
    const start = performance.now()
    const onMessage = (data: WebSocket.RawData) => {
      const e = JSON.parse(data.toString())
      if (e.context_id !== id) return
      if (first === undefined && e.type === 'chunk') first = performance.now() - start
      if (!e.done) return
      side.ws.off('message', onMessage)
      if (e.type !== 'done' || first === undefined)
        reject(new Error(`${side.name} websocket: ${e.error_code ?? 'no audio'}`))
      else resolve(first)
    }
    side.ws.on('message', onMessage)
    side.ws.send(JSON.stringify(ttsBody(side.voice, side.transcript, { context_id: id })))
  })
}

const firstAudio = (side: Side, transport: Transport) =>
  transport === 'websocket' ? wsFirstAudio(side) : httpFirstAudio(side, transport)

async function openSide(name: SideName, url: string, token: string, voice: string, transcript: string): Promise<Side> {
  const ws = new WebSocket(`${url.replace(/^https/, 'wss')}/tts/websocket`, {
    headers: { authorization: `Bearer ${token}` },
  })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  return { name, url, token, voice, transcript, agent: new https.Agent({ keepAlive: true, maxSockets: 1 }), ws }
}

interface TtfbRow {
  transport: Transport
  direct: number[]
  gateway: number[]
}

async function benchTtfb(sides: [Side, Side]): Promise<TtfbRow[]> {
  const rows = TRANSPORTS.map((transport) => ({ transport, direct: [] as number[], gateway: [] as number[] }))
  for (let round = -TTFB_WARMUP_ROUNDS; round < TTFB_ROUNDS; round++) {
    const order = round % 2 === 0 ? sides : ([sides[1], sides[0]] as const)
    for (const row of rows) {
      for (const side of order) {
        const ms = await firstAudio(side, row.transport)
        if (round >= 0) row[side.name].push(ms)
      }
    }
  }
  return rows
}

// ---------------------------------------------------------------------------------------------
// Relayed throughput: 50 WebSocket streams at once, in a worker thread.

interface StreamsTarget {
  name: SideName
  url: string
  token: string
  voice: string
}
interface ThroughputSpec {
  targets: StreamsTarget[]
  schedule: number[]
  streams: number
  transcript: string
}
interface Phase {
  target: SideName
  audioSeconds: number
  wallMs: number
  done: number
  failed: number
  firstAudioP50Ms: number
}

function openSockets(t: StreamsTarget, n: number): Promise<WebSocket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${t.url.replace(/^https/, 'wss')}/tts/websocket`, {
            headers: { authorization: `Bearer ${t.token}` },
          })
          ws.once('open', () => resolve(ws)).once('error', reject)
        }),
    ),
  )
}

/** One context on each of the target's sockets, all started at once; timed until the last one is done. */
async function onePhase(t: StreamsTarget, sockets: WebSocket[], phase: number, transcript: string): Promise<Phase> {
  let bytes = 0
  let done = 0
  let failed = 0
  const firsts: number[] = []
  const start = performance.now()
  await Promise.all(
    sockets.map(
      (ws, i) =>
        new Promise<void>((resolve) => {
          const id = `gw-rt-${phase}-${i}`
          let first = true
          const finish = () => {
            ws.off('message', onMessage)
            ws.off('close', onClose)
            resolve()
          }
          const onClose = () => {
            failed++
            finish()
          }
          const onMessage = (data: WebSocket.RawData) => {
            const e = JSON.parse(data.toString())
            if (e.context_id !== id) return
            if (e.type === 'chunk') {
              if (first) firsts.push(performance.now() - start)
              first = false
              bytes += Buffer.byteLength(e.data, 'base64')
            }
            if (e.done) {
              if (e.type === 'done') done++
              else failed++
              finish()
            }
          }
          ws.on('message', onMessage)
          ws.once('close', onClose)
          ws.send(JSON.stringify(ttsBody(t.voice, transcript, { context_id: id })))
        }),
    ),
  )
  const wallMs = performance.now() - start
  return {
    target: t.name,
    audioSeconds: bytes / 2 / SAMPLE_RATE,
    wallMs,
    done,
    failed,
    firstAudioP50Ms: percentile(firsts, 50),
  }
}

/**
 * Runs the whole schedule (target indexes) in one worker, on sockets opened once per target before
 * the first phase (handshakes are not what is measured): no worker start or TLS handshake between phases.
 */
async function runThroughput(spec: ThroughputSpec): Promise<Phase[]> {
  const sockets: WebSocket[][] = []
  for (const t of spec.targets) sockets.push(await openSockets(t, spec.streams))
  const phases: Phase[] = []
  for (const [n, i] of spec.schedule.entries())
    phases.push(await onePhase(spec.targets[i]!, sockets[i]!, n, spec.transcript))
  await Promise.all(
    sockets.flat().map(
      (ws) =>
        new Promise((resolve) => {
          ws.once('close', resolve)
          ws.close()
        }),
    ),
  )
  return phases
}

serveInWorker('gateway-throughput', runThroughput)

// ---------------------------------------------------------------------------------------------

export async function gatewaySection(): Promise<void> {
  console.log('\n## gateway: a voxgate gateway in front of an upstream voxgate vs straight to that upstream')
  const bootStart = performance.now()
  const { mint } = await import('../packages/server/test/helpers/http.ts')
  const { voiceIds } = await import('../packages/server/test/helpers/security.ts')
  const { ONE_SENTENCE, TWELVE_SENTENCES } = await import('./tts.ts')
  const upstream = await startProcess('upstream')
  const gateway = await startProcess('gateway', upstream)
  try {
    const [voice] = (await voiceIds(upstream.url, upstream.apiKey, 1)) as [string]
    const mintBody = { grants: { tts: true }, expires_in: 900, sub: 'bench-user' }
    const directToken = await mint(upstream.url, upstream.apiKey, mintBody)
    const gatewayToken = await mint(gateway.url, gateway.apiKey, mintBody)
    console.log(
      'upstream: a second voxgate on the deterministic test engine (first audio within ~1 ms, audio as fast as the CPU allows),',
    )
    console.log(
      "  so the difference measured is the relay's own cost, not synthesis jitter; a real engine would add the same to both sides",
    )
    console.log(
      'upstream, gateway and client each in a process of their own on this machine; TLS on both hops; tokens minted at each (grant tts, a sub, no limits)',
    )
    console.log(`(started in ${fmt((performance.now() - bootStart) / 1000)} s)`)

    console.log(
      `\n## gateway: time to first audio, one sentence, 24 kHz pcm_s16le, ${TTFB_ROUNDS} interleaved rounds (+${TTFB_WARMUP_ROUNDS} warm-up), direct first in even rounds, gateway first in odd`,
    )
    const sides = (await Promise.all([
      openSide('direct', upstream.url, directToken, voice, ONE_SENTENCE),
      openSide('gateway', gateway.url, gatewayToken, voice, ONE_SENTENCE),
    ])) as [Side, Side]
    const ttfbStart = performance.now()
    let rows: TtfbRow[]
    try {
      rows = await benchTtfb(sides)
    } finally {
      for (const s of sides) {
        s.ws.close()
        s.agent.destroy()
      }
    }
    for (const r of rows) {
      const d50 = percentile(r.direct, 50)
      const d95 = percentile(r.direct, 95)
      const g50 = percentile(r.gateway, 50)
      const g95 = percentile(r.gateway, 95)
      const met = g50 - d50 <= TARGET_OVERHEAD_P50_MS ? 'met' : 'not met'
      console.log(
        `${r.transport.padEnd(9)} direct p50 ${fmt(d50)} ms p95 ${fmt(d95)} ms | gateway p50 ${fmt(g50)} ms p95 ${fmt(g95)} ms | overhead p50 ${signed(g50 - d50)} ms, p95 ${signed(g95 - d95)} ms, ratio p50 ${fmt(g50 / d50, 2)} (target ≤ +${TARGET_OVERHEAD_P50_MS} ms p50: ${met})`,
      )
    }
    console.log(`(${fmt((performance.now() - ttfbStart) / 1000)} s)`)

    console.log(
      `\n## gateway: relayed audio throughput, ${STREAMS} simultaneous WebSocket streams (${STREAMS} sockets per side opened once, a new context on each per round, 12 sentences), ${THROUGHPUT_ROUNDS} interleaved rounds (+1 warm-up)`,
    )
    const targets: StreamsTarget[] = [
      { name: 'direct', url: upstream.url, token: directToken, voice },
      { name: 'gateway', url: gateway.url, token: gatewayToken, voice },
    ]
    // Warm-up pair, then direct/gateway and gateway/direct alternately.
    const schedule = [0, 1]
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) schedule.push(...(r % 2 === 0 ? [0, 1] : [1, 0]))
    const tpStart = performance.now()
    const phases = (
      await inWorker<ThroughputSpec, Phase[]>(import.meta.url, 'gateway-throughput', {
        targets,
        schedule,
        streams: STREAMS,
        transcript: TWELVE_SENTENCES,
      })
    ).slice(2)
    const rate = (p: Phase) => p.audioSeconds / (p.wallMs / 1000)
    const of = (name: SideName) => phases.filter((p) => p.target === name)
    const ratios: number[] = []
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
      const pair = phases.slice(2 * r, 2 * r + 2)
      const d = pair.find((p) => p.target === 'direct')!
      const g = pair.find((p) => p.target === 'gateway')!
      ratios.push(rate(g) / rate(d))
    }
    for (const name of ['direct', 'gateway'] as const) {
      const ps = of(name)
      const rates = ps.map(rate)
      const failed = ps.reduce((n, p) => n + p.failed, 0)
      const done = ps.reduce((n, p) => n + p.done, 0)
      console.log(
        `${name.padEnd(8)} ${fmt(median(rates), 0)} s of audio per wall second (median; rounds ${fmt(Math.min(...rates), 0)}–${fmt(Math.max(...rates), 0)}), ${fmt(ps[0]!.audioSeconds, 0)} s of audio per round in ${fmt(median(ps.map((p) => p.wallMs)), 0)} ms, first audio p50 ${fmt(median(ps.map((p) => p.firstAudioP50Ms)), 0)} ms; ${done}/${done + failed} contexts done`,
      )
    }
    console.log(
      `gateway ÷ direct throughput: ${fmt(median(ratios), 2)} (median of ${THROUGHPUT_ROUNDS} rounds; ${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`,
    )
    console.log(`(${fmt((performance.now() - tpStart) / 1000)} s)`)
  } finally {
    await gateway.close()
    await upstream.close()
  }
}
