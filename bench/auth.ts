/**
 * Issue "core" figures: minting throughput against the same server's GET /, and the cost of our
 * whole credential check against the raw signature check of the same algorithm in node:crypto. The
 * machine is shared, so every figure comes from interleaved rounds and is read as a median ratio with
 * its spread over the rounds.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { jwtVerify } from 'jose'
import type { TestServer } from '../packages/server/test/helpers/server.ts'
import type { LoadSpec } from './http-load.ts'
import { tlsLoad } from './tls-load.ts'
import { threadCpuMs } from './thread-cpu.ts'

const per = (n: number, ms: number) => (ms * 1000) / n
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
const spread = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)]

/** Microseconds per raw Ed25519 signature of a token-sized input. */
function rawSignUs(privateKey: KeyObject, n: number): number {
  const input = Buffer.from('x'.repeat(400))
  const start = performance.now()
  for (let i = 0; i < n; i++) sign(null, input, privateKey)
  return per(n, performance.now() - start)
}

export interface MintFigures {
  statusPerSecond: number
  mintPerSecond: number
  ratio: number
  rawSignUs: number
  ceilingPerSecond: number
  /** Median over rounds of minting ÷ its ceiling (1 / (cost of GET / + one raw signature)), and its spread. */
  ofCeiling: number
  ofCeilingSpread: [number, number]
  /** Server-thread CPU per request (steal time included on a VM, so read it as a ratio too). */
  statusCpuUs: number
  mintCpuUs: number
  /** The load generator's thread CPU per request, for each route. */
  statusClientCpuUs: number
  mintClientCpuUs: number
  errors: number
}

/**
 * `rounds` interleaved rounds (GET /, mint, a burst of raw signatures; the order alternates) of
 * `roundMs` each; every round gives its own ceiling ratio, and the median is the figure.
 */
/** The two routes the minting figure compares: `GET /` and a mint with the server's API key, 16 connections. */
export function mintSpecs(t: TestServer, durationMs: number): { status: LoadSpec; mint: LoadSpec } {
  const common = { url: t.url, connections: 16, durationMs }
  return {
    status: { ...common, path: '/', method: 'GET' },
    mint: {
      ...common,
      path: '/access-token',
      method: 'POST',
      headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ grants: { tts: true }, expires_in: 60 }),
    },
  }
}

export async function benchMintThroughput(t: TestServer, roundMs: number, rounds = 5): Promise<MintFigures> {
  const { status, mint } = mintSpecs(t, roundMs)
  const { privateKey } = t.server.ctx.keyRing.signer()
  await tlsLoad({ ...mint, durationMs: 500 }) // warm-up: JIT, connections, the key's first check
  const timed = async (spec: LoadSpec) => {
    const cpu0 = threadCpuMs()
    const r = await tlsLoad(spec)
    return { ...r, cpuUs: ((threadCpuMs() - cpu0) * 1000) / Math.max(1, r.requests) }
  }
  const runs: { status: Awaited<ReturnType<typeof timed>>; mint: Awaited<ReturnType<typeof timed>>; signUs: number }[] =
    []
  for (let i = 0; i < rounds; i++) {
    const first = i % 2 === 0 ? status : mint
    const a = await timed(first)
    const signUs = rawSignUs(privateKey, 1000)
    const b = await timed(first === status ? mint : status)
    runs.push(first === status ? { status: a, mint: b, signUs } : { status: b, mint: a, signUs })
  }
  const ceiling = (r: (typeof runs)[number]) => 1 / (1 / r.status.perSecond + r.signUs / 1e6)
  const ofCeiling = runs.map((r) => r.mint.perSecond / ceiling(r))
  const statusPerSecond = median(runs.map((r) => r.status.perSecond))
  const mintPerSecond = median(runs.map((r) => r.mint.perSecond))
  const signUs = median(runs.map((r) => r.signUs))
  return {
    statusPerSecond,
    mintPerSecond,
    ratio: median(runs.map((r) => r.mint.perSecond / r.status.perSecond)),
    rawSignUs: signUs,
    ceilingPerSecond: median(runs.map(ceiling)),
    ofCeiling: median(ofCeiling),
    ofCeilingSpread: spread(ofCeiling),
    statusCpuUs: median(runs.map((r) => r.status.cpuUs)),
    mintCpuUs: median(runs.map((r) => r.mint.cpuUs)),
    statusClientCpuUs: median(runs.map((r) => r.status.clientCpuUs)),
    mintClientCpuUs: median(runs.map((r) => r.mint.clientCpuUs)),
    errors: runs.reduce((n, r) => n + r.status.errors + r.mint.errors, 0),
  }
}

export interface CheckFigures {
  rawUs: number
  joseUs: number
  firstUs: number
  cachedUs: number
  /** Medians over rounds of (ours, first sight) ÷ raw and jose ÷ raw, each with its spread. */
  firstRatio: number
  firstRatioSpread: [number, number]
  joseRatio: number
}

/**
 * `rounds` rounds of `n` fresh tokens each; in every round the same tokens go through a raw
 * node:crypto verify, jose's `jwtVerify` and our whole first-sight check, in an order that rotates
 * from round to round, so a slow moment of the machine falls on all three alike.
 */
export async function benchCredentialCheck(t: TestServer, n: number, rounds = 7): Promise<CheckFigures> {
  const { authenticator, keyRing, tokens: service } = t.server.ctx
  const publicKey = createPublicKey(keyRing.signer().privateKey)
  const joseOptions = { algorithms: ['EdDSA'], issuer: 'voxgate', audience: 'voxgate' }
  const ways: Record<'raw' | 'jose' | 'ours', (tokens: string[]) => Promise<void>> = {
    // Raw: one Ed25519 verify of the same bytes, nothing else.
    raw: async (tokens) => {
      for (const tok of tokens) {
        const [h, p, s] = tok.split('.') as [string, string, string]
        verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))
      }
    },
    // jose alone, with the same options we pass: what the library costs over the raw signature.
    jose: async (tokens) => {
      for (const tok of tokens) await jwtVerify(tok, publicKey, joseOptions)
    },
    // Ours, first sight: parse, verify, claim checks, expiry, revocation, cache insert.
    ours: async (tokens) => {
      for (const tok of tokens) await authenticator.authenticate(tok)
    },
  }
  const order = Object.keys(ways) as (keyof typeof ways)[]
  const us: Record<keyof typeof ways, number[]> = { raw: [], jose: [], ours: [] }
  let lastBatch: string[] = []
  for (let round = -1; round < rounds; round++) {
    // Minted in-process (the same function the route calls): n HTTPS requests would only measure
    // connection set-up. Each way gets its own copy of the batch's tokens seen by nobody yet.
    const batch: string[] = []
    for (let i = 0; i < n; i++)
      batch.push((await service.mint({ keyId: t.apiKeyId, grants: { tts: true }, ttlSeconds: 600 })).token)
    lastBatch = batch
    for (let k = 0; k < order.length; k++) {
      const way = order[(k + round + 1) % order.length]!
      const start = performance.now()
      await ways[way](batch)
      if (round >= 0) us[way].push(per(n, performance.now() - start)) // round -1 warms the JIT
    }
  }
  // Ours, seen before: the cache path, still with expiry and revocation checks.
  const reps = n * 20
  const start = performance.now()
  for (let i = 0; i < reps; i++) await authenticator.authenticate(lastBatch[i % n]!)
  const cachedUs = per(reps, performance.now() - start)
  const firstRatios = us.ours.map((x, i) => x / us.raw[i]!)
  return {
    rawUs: median(us.raw),
    joseUs: median(us.jose),
    firstUs: median(us.ours),
    cachedUs,
    firstRatio: median(firstRatios),
    firstRatioSpread: spread(firstRatios),
    joseRatio: median(us.jose.map((x, i) => x / us.raw[i]!)),
  }
}
