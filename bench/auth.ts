/**
 * Issue "core" figures: minting throughput against the same server's GET /, and the cost of our
 * whole credential check against the raw signature check of the same algorithm in node:crypto.
 */
import { createPublicKey, sign, verify } from 'node:crypto'
import { jwtVerify } from 'jose'
import type { TestServer } from '../packages/server/test/helpers/server.ts'
import { load } from './http-load.ts'

const per = (n: number, ms: number) => (ms * 1000) / n

export async function benchMintThroughput(t: TestServer, durationMs: number) {
  const common = { url: t.url, connections: 16, durationMs }
  const status = await load({ ...common, path: '/', method: 'GET' })
  const minted = await load({
    ...common,
    path: '/access-token',
    method: 'POST',
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grants: { tts: true }, expires_in: 60 }),
  })
  // The ceiling for minting: a GET / plus one raw Ed25519 signature of a token-sized input, per request.
  const { privateKey } = t.server.ctx.keyRing.signer()
  const input = Buffer.from('x'.repeat(400))
  const n = 2000
  const start = performance.now()
  for (let i = 0; i < n; i++) sign(null, input, privateKey)
  const rawSignUs = per(n, performance.now() - start)
  const ceilingPerSecond = 1 / (1 / status.perSecond + rawSignUs / 1e6)
  return {
    statusPerSecond: status.perSecond,
    mintPerSecond: minted.perSecond,
    ratio: minted.perSecond / status.perSecond,
    rawSignUs,
    ceilingPerSecond,
    ofCeiling: minted.perSecond / ceilingPerSecond,
    errors: status.errors + minted.errors,
  }
}

export async function benchCredentialCheck(t: TestServer, n: number) {
  const { authenticator, keyRing, tokens: service } = t.server.ctx
  // Minted in-process (the same function the route calls): n HTTPS requests at once would only
  // measure connection set-up.
  const tokens: string[] = []
  for (let i = 0; i < n; i++)
    tokens.push((await service.mint({ keyId: t.apiKeyId, grants: { tts: true }, ttlSeconds: 600 })).token)
  const publicKey = createPublicKey(keyRing.signer().privateKey)
  const parts = tokens.map((tok) => tok.split('.') as [string, string, string])
  // Raw: one Ed25519 verify of the same bytes, nothing else.
  let start = performance.now()
  for (const [h, p, s] of parts) verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))
  const rawUs = per(n, performance.now() - start)
  // jose alone, with the same options we pass: what the library costs over the raw signature.
  start = performance.now()
  for (const tok of tokens)
    await jwtVerify(tok, publicKey, { algorithms: ['EdDSA'], issuer: 'voxgate', audience: 'voxgate' })
  const joseUs = per(n, performance.now() - start)
  // Ours, first sight: parse, jose verify, claim checks, expiry, revocation, cache insert.
  start = performance.now()
  for (const tok of tokens) await authenticator.authenticate(tok)
  const firstUs = per(n, performance.now() - start)
  // Ours, seen before: the cache path, still with expiry and revocation checks.
  const reps = n * 20
  start = performance.now()
  for (let i = 0; i < reps; i++) await authenticator.authenticate(tokens[i % n]!)
  const cachedUs = per(reps, performance.now() - start)
  return { rawUs, joseUs, firstUs, cachedUs, firstRatio: firstUs / rawUs }
}
