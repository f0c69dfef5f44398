/**
 * Minting counted in instructions, which a shared machine's load does not change (wall-clock and even
 * CPU-time figures swing several-fold there, steal time included). Run under callgrind, instrumenting
 * only the measured phases:
 *
 *   valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no --smc-check=all-non-file \
 *     --callgrind-out-file=/tmp/cg.%p node --import tsx bench/callgrind-mint.ts
 *
 * with NODE_EXTRA_CA_CERTS and VOXGATE_TEST_TLS_DIR set as `npm run bench` sets them (scripts/test-ca.ts).
 * Each phase is one dump; the server's thread is the `-01` file of each: `get` and `mint` (N requests,
 * then 2N: the difference cancels what a phase costs whatever its length, such as the load worker's
 * start and its TLS handshakes), `sign` (N raw Ed25519 signatures, the ceiling's other half), then the
 * first-sight credential check against a raw verify and jose on N fresh tokens each.
 */
import { execFileSync } from 'node:child_process'
import { createPublicKey, sign, verify } from 'node:crypto'
import { jwtVerify } from 'jose'
import { DEFAULT_VOICE_ID } from '../packages/server/src/tts/index.ts'
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { load } from './http-load.ts'

const N = Number(process.env.N ?? 200)
const callgrind = (...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(process.pid)], { stdio: 'ignore' })
// Valgrind runs the server some fifty times slower: no timeout of the server's may cut a request short.
const t = await startTestServer({
  logLevel: 'silent',
  mintPerMinute: 0,
  ttsStreamsPerMinute: 0,
  bodyGraceMs: 600_000,
  headersTimeoutMs: 600_000,
  requestTimeoutMs: 3_600_000,
  storeRequestTimeoutMs: 60_000,
  // The store poll and the webhook outbox run on timers, so under valgrind their share grows with the
  // phase's wall-clock length (which the machine's load sets): polled as rarely as allowed.
  storePollMs: 5000,
})
try {
  const common = { url: t.url, connections: 4, durationMs: 600_000 }
  const get = { ...common, path: '/', method: 'GET' as const }
  const mint = {
    ...common,
    path: '/access-token',
    method: 'POST' as const,
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grants: { tts: true }, expires_in: 60 }),
  }
  // Warm-up: JIT, connections, the key's first (uncached) check.
  await load({ ...get, requests: N })
  await load({ ...mint, requests: N })
  for (const [name, spec, n] of [
    ['get', get, N],
    ['mint', mint, N],
    ['get', get, 2 * N],
    ['mint', mint, 2 * N],
  ] as const) {
    callgrind('--instr=on')
    const r = await load({ ...spec, requests: n })
    callgrind(`--dump=${name} ${r.requests} requests, ${r.errors} errors`)
    callgrind('--instr=off')
  }
  // The OpenAI speech route against /tts/bytes, whole MP3 answers from the deterministic engine: what
  // the route itself costs over the route it translates to (issue 24).
  const speech = (path: string, payload: object) => ({
    ...common,
    path,
    method: 'POST' as const,
    headers: mint.headers,
    body: JSON.stringify(payload),
  })
  const text = 'The quick brown fox jumps over the lazy dog.'
  const voice = DEFAULT_VOICE_ID
  const mp3 = { container: 'mp3', sample_rate: 24000, bit_rate: 128000 }
  const bytes = speech('/tts/bytes', { model_id: 'sonic-3', transcript: text, voice, output_format: mp3 })
  const openai = speech('/v1/audio/speech', { model: 'tts-1', input: text, voice })
  await load({ ...bytes, requests: 10 })
  await load({ ...openai, requests: 10 })
  for (const [name, spec] of [
    ['tts-bytes', bytes],
    ['openai-speech', openai],
  ] as const) {
    callgrind('--instr=on')
    const r = await load({ ...spec, requests: N / 10 })
    callgrind(`--dump=${name} ${r.requests} requests, ${r.errors} errors`)
    callgrind('--instr=off')
  }
  const { privateKey } = t.server.ctx.keyRing.signer()
  const input = Buffer.from('x'.repeat(400))
  callgrind('--instr=on')
  for (let i = 0; i < N; i++) sign(null, input, privateKey)
  callgrind(`--dump=sign ${N}`)
  callgrind('--instr=off')
  const { authenticator, tokens } = t.server.ctx
  const fresh = async () => {
    const batch: string[] = []
    for (let i = 0; i < N; i++)
      batch.push((await tokens.mint({ keyId: t.apiKeyId, grants: { tts: true }, ttlSeconds: 600 })).token)
    return batch
  }
  const publicKey = createPublicKey(privateKey)
  const joseOptions = { algorithms: ['EdDSA'], issuer: 'voxgate', audience: 'voxgate' }
  const checks: [string, (tok: string) => unknown][] = [
    [
      'verify-raw',
      (tok) => {
        const [h, p, s] = tok.split('.') as [string, string, string]
        return verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))
      },
    ],
    ['verify-ours', (tok) => authenticator.authenticate(tok)],
    ['verify-jose', (tok) => jwtVerify(tok, publicKey, joseOptions)],
  ]
  for (const [, check] of checks) for (const tok of await fresh()) await check(tok) // warm-up
  for (const [name, check] of checks) {
    const batch = await fresh()
    callgrind('--instr=on')
    for (const tok of batch) await check(tok)
    callgrind(`--dump=${name} ${N}`)
    callgrind('--instr=off')
  }
} finally {
  await t.close()
}
