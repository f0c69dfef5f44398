/**
 * `npm run bench -- profile-mint`: a CPU profile of minting alone (the server and load of
 * `npm run bench -- auth`), taken only while the load runs, written to bench-profiles/mint.cpuprofile
 * (open it in Chrome's DevTools) and summarised as self time per module, for docs/performance.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session, type Profiler } from 'node:inspector/promises'
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { load } from './http-load.ts'

const t = await startTestServer({ logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
const session = new Session()
session.connect()
try {
  const request = {
    url: t.url,
    connections: 16,
    path: '/access-token',
    method: 'POST' as const,
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grants: { tts: true }, expires_in: 60 }),
  }
  await load({ ...request, durationMs: 1000 }) // warm-up: JIT, connections, caches
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  const r = await load({ ...request, durationMs: Number(process.env.PROFILE_MS ?? 5000) })
  const { profile } = await session.post('Profiler.stop')
  mkdirSync('bench-profiles', { recursive: true })
  writeFileSync('bench-profiles/mint.cpuprofile', JSON.stringify(profile))
  console.log(`POST /access-token ${r.perSecond.toFixed(0)} req/s, errors ${r.errors}; self time by module:`)
  for (const [name, share] of selfTimeByModule(profile).slice(0, 25))
    console.log(`${(share * 100).toFixed(1).padStart(5)} %  ${name}`)
} finally {
  session.disconnect()
  await t.close()
}

/** Self time per package (node_modules), per source file of ours, or per V8/Node category. */
function selfTimeByModule(profile: Profiler.Profile): [string, number][] {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const byModule = new Map<string, number>()
  let total = 0
  profile.samples?.forEach((id, i) => {
    const dt = profile.timeDeltas?.[i] ?? 0
    const frame = nodes.get(id)?.callFrame
    const url = frame?.url ?? ''
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
    const name =
      pkg ?? (url.includes('/packages/') ? url.replace(/.*\/packages\//, '') : url || frame?.functionName || '?')
    byModule.set(name, (byModule.get(name) ?? 0) + dt)
    total += dt
  })
  return [...byModule].map(([k, v]): [string, number] => [k, v / total]).sort((a, b) => b[1] - a[1])
}
