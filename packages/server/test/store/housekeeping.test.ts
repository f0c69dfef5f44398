/** Expired revocations and long-retired signing keys are pruned on a timer, not only on rotation. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openStore } from '../../src/store/open.ts'
import { startTestServer } from '../helpers/server.ts'
import { eventually } from '../helpers/controlled-speech.ts'

const HOUR = 3_600_000

test('at start and then on every interval, the store sheds what can never matter again', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-housekeeping-'))
  const now = Date.now()
  const seed = await openStore({ dataDir })
  await seed.addSigningKey({
    kid: 'sig_retired_long_ago',
    privatePem: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    createdAt: now - 5 * HOUR,
    retiredAt: null,
  })
  await seed.retireSigningKey('sig_retired_long_ago', now - 3 * HOUR)
  await seed.addRevocation({ kind: 'jti', jti: 'tok_expired', expiresAt: now - 2 * HOUR })
  await seed.addRevocation({ kind: 'jti', jti: 'tok_live', expiresAt: now + HOUR })
  await seed.close()

  const t = await startTestServer({ dataDir, housekeepingIntervalMs: 1000 })
  try {
    const store = t.server.ctx.store
    const jtis = async () => (await store.snapshot()).revocations.map((r) => (r.kind === 'jti' ? r.jti : r.sub))
    await eventually(async () => !(await jtis()).includes('tok_expired'), 'pruned at start')
    assert.deepEqual(await jtis(), ['tok_live'])
    assert.equal(
      (await store.snapshot()).signingKeys.some((k) => k.kid === 'sig_retired_long_ago'),
      false,
    )
    // A revocation that expires later is pruned by the timer, with nobody rotating anything.
    await store.addRevocation({ kind: 'jti', jti: 'tok_expires_now', expiresAt: Date.now() - 2 * HOUR })
    await eventually(async () => !(await jtis()).includes('tok_expires_now'), 'pruned by the timer')
    assert.deepEqual(await jtis(), ['tok_live'])
  } finally {
    await t.close()
  }
})
