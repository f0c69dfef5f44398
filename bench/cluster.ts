/**
 * Issue "cluster" figures, each beside a baseline from the same run: revocation propagation across
 * three instances (one PostgreSQL schema, one Redis prefix); the cost of a stream start with slots in
 * Redis against slots in memory; minting and first-sight credential checks on PostgreSQL against
 * SQLite. Loopback only; bounded.
 */
import { createKey } from '../packages/server/src/keys/create-key.ts'
import { bearer, call, mint } from '../packages/server/test/helpers/http.ts'
import { testSchema } from '../packages/server/test/helpers/postgres.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../packages/server/test/helpers/redis.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds } from '../packages/server/test/helpers/security.ts'
import { startTestServer, type TestServer } from '../packages/server/test/helpers/server.ts'
import { benchCredentialCheck, benchMintThroughput } from './auth.ts'

const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y)
const pct = (xs: number[], p: number) =>
  sorted(xs)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN
const median = (xs: number[]) => pct(xs, 50)

/** Time from sending a revoke to A until B's and C's WebSockets close, per round. */
export async function benchRevocationPropagation(rounds: number) {
  const schema = testSchema()
  const prefix = uniquePrefix()
  const shared = {
    store: schema.url(),
    redisUrl: SHARED_REDIS_URL,
    redisPrefix: prefix,
    logLevel: 'silent' as const,
    mintPerMinute: 0,
  }
  const servers: TestServer[] = []
  try {
    for (let i = 0; i < 3; i++) servers.push(await startTestServer(shared))
    const [a, b, c] = servers as [TestServer, TestServer, TestServer]
    const apiKey = (await createKey(a.server.ctx.store, 'bench', Date.now())).key
    const [voice] = (await voiceIds(a.url, apiKey, 1)) as [string]
    const ms: number[] = []
    for (let r = 0; r < rounds; r++) {
      const token = await mint(a.url, apiKey, { grants: { tts: true }, expires_in: 600 })
      const sockets = await Promise.all([b, c].map((s) => openInbox(s.url, { query: `?access_token=${token}` })))
      for (const s of sockets) s.send({ ...ttsBody(voice, 'waiting'), context_id: 'x', continue: true })
      await Promise.all(sockets.map((s) => s.terminal('x', 50).catch(() => undefined)))
      const t0 = performance.now()
      await call(a.url, '/access-token/revoke', { headers: bearer(apiKey), body: { token } })
      for (const s of sockets) ms.push((await s.closed(5000)).at - t0)
      for (const s of sockets) closeQuietly(s.ws)
    }
    return { p50: pct(ms, 50), p99: pct(ms, 99), max: Math.max(...ms), samples: ms.length }
  } finally {
    for (const s of servers) await s.close()
    await schema.drop()
    await dropPrefix(SHARED_REDIS_URL, prefix)
  }
}

/** Median latency of a short bytes request for a concurrent_streams token, slots in memory vs in Redis (interleaved). */
export async function benchStreamStart(rounds: number) {
  const prefix = uniquePrefix()
  const local = await startTestServer({ logLevel: 'silent', ttsStreamsPerMinute: 0 })
  const redis = await startTestServer({
    logLevel: 'silent',
    ttsStreamsPerMinute: 0,
    redisUrl: SHARED_REDIS_URL,
    redisPrefix: prefix,
  })
  try {
    const setups = await Promise.all(
      [local, redis].map(async (t) => {
        const [voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
        return {
          t,
          voice,
          token: await mint(t.url, t.apiKey, {
            grants: { tts: true },
            expires_in: 600,
            limits: { concurrent_streams: 4 },
          }),
        }
      }),
    )
    const times: number[][] = [[], []]
    for (let r = -5; r < rounds; r++) {
      for (const [i, s] of setups.entries()) {
        const t0 = performance.now()
        await call(s.t.url, '/tts/bytes', { headers: bearer(s.token), body: ttsBody(s.voice, 'Hi.') })
        if (r >= 0) times[i]!.push(performance.now() - t0)
      }
    }
    return { memoryMs: median(times[0]!), redisMs: median(times[1]!), ratio: median(times[1]!) / median(times[0]!) }
  } finally {
    await local.close()
    await redis.close()
    await dropPrefix(SHARED_REDIS_URL, prefix)
  }
}

/** Minting throughput and first-sight credential checks on PostgreSQL against SQLite, same run. */
export async function benchStores(durationMs: number) {
  const schema = testSchema()
  const sqlite = await startTestServer({ logLevel: 'silent', mintPerMinute: 0 })
  const pg = await startTestServer({ logLevel: 'silent', mintPerMinute: 0, store: schema.url() })
  try {
    const mintSqlite = await benchMintThroughput(sqlite, durationMs, 1)
    const mintPg = await benchMintThroughput(pg, durationMs, 1)
    const checkSqlite = await benchCredentialCheck(sqlite, 1000, 1)
    const checkPg = await benchCredentialCheck(pg, 1000, 1)
    return {
      mintSqlite: mintSqlite.mintPerSecond,
      mintPg: mintPg.mintPerSecond,
      mintRatio: mintPg.mintPerSecond / mintSqlite.mintPerSecond,
      checkSqliteUs: checkSqlite.firstUs,
      checkPgUs: checkPg.firstUs,
      checkRatio: checkPg.firstUs / checkSqlite.firstUs,
    }
  } finally {
    await sqlite.close()
    await pg.close()
    await schema.drop()
  }
}
