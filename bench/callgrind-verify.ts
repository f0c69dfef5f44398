/**
 * The first-sight credential check counted in instructions (issue 26 item 2): N fresh tokens through a
 * raw node:crypto Ed25519 verify, our TokenService.verify (what `authenticate` runs for a token) and
 * jose's `jwtVerify`, one callgrind dump each, without a server (so it starts in a minute under valgrind):
 *
 *   valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
 *     --callgrind-out-file=/tmp/cg.%p node --import tsx bench/callgrind-verify.ts
 */
import { execFileSync } from 'node:child_process'
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto'
import { jwtVerify } from 'jose'
import { KeyRing } from '../packages/server/src/auth/key-ring.ts'
import { RevocationList } from '../packages/server/src/auth/revocations.ts'
import { TokenService } from '../packages/server/src/auth/tokens.ts'
import { systemClock } from '../packages/server/src/clock.ts'

const N = Number(process.env.N ?? 300)
const callgrind = (...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(process.pid)], { stdio: 'ignore' })
const { privateKey } = generateKeyPairSync('ed25519')
const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
const ring = new KeyRing()
ring.load([{ kid: 'sig_bench', privatePem, createdAt: Date.now(), retiredAt: null }])
const service = new TokenService(
  { issuer: 'voxgate', audience: 'voxgate', clockToleranceSeconds: 5, cacheSize: 100_000 },
  ring,
  new RevocationList(),
  systemClock,
)
const publicKey = createPublicKey(privateKey)
const joseOptions = { algorithms: ['EdDSA'], issuer: 'voxgate', audience: 'voxgate' }
const fresh = async () => {
  const batch: string[] = []
  for (let i = 0; i < N; i++)
    batch.push((await service.mint({ keyId: 'key_bench', grants: { tts: true }, ttlSeconds: 600 })).token)
  return batch
}
const checks: [string, (tok: string) => unknown][] = [
  [
    'verify-raw',
    (tok) => {
      const [h, p, s] = tok.split('.') as [string, string, string]
      return verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))
    },
  ],
  ['verify-ours', (tok) => service.verify(tok)],
  ['verify-jose', (tok) => jwtVerify(tok, publicKey, joseOptions)],
]
for (let round = 0; round < 2; round++)
  for (const [, check] of checks) for (const tok of await fresh()) await check(tok)
for (const [name, check] of checks) {
  const batch = await fresh()
  callgrind('--instr=on')
  for (const tok of batch) await check(tok)
  callgrind(`--dump=${name} ${N}`)
  callgrind('--instr=off')
}
