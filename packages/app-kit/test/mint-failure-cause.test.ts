/**
 * A mint that fails logs why, through the `logger` option: the network cause under fetch's
 * `fetch failed` (a refused connection, a CA the app does not trust), over real sockets and TLS.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ensureDevTls, readTls } from '../../server/src/tls/dev-ca.ts'
import { createTokenRoute } from '../src/index.ts'
import { API_KEY, APP_ORIGIN, browserPost, captureLogger } from './helpers/fake-voice-api.ts'

async function mintFailureReason(voiceApiUrl: string): Promise<unknown> {
  const log = captureLogger()
  const route = createTokenRoute({
    voiceApiUrl,
    apiKey: API_KEY,
    allowedOrigins: [APP_ORIGIN],
    authenticate: () => ({ id: 'user-alice' }),
    logger: log.logger,
  })
  const res = await route(browserPost('/t'))
  assert.equal(res.status, 502)
  assert.equal((await res.json()).error_code, 'mint_failed')
  assert.ok(!log.text().includes(API_KEY))
  const failed = log.lines.map((l) => JSON.parse(l)).find((l) => l.message === 'voice token mint failed')
  return failed?.reason
}

describe('mint_failed names its cause in the log', () => {
  let dir: string
  let untrusted: Server
  let closedPort: number
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'app-kit-untrusted-'))
    // A development CA of its own, which nothing in this process trusts.
    const tls = await ensureDevTls(dir)
    untrusted = createServer(readTls(tls.certFile, tls.keyFile), (_req, res) => res.end('{}'))
    await new Promise<void>((resolve) => untrusted.listen(0, '127.0.0.1', resolve))
    const probe = net.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    closedPort = (probe.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
  })
  after(() => {
    untrusted.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('nothing listening: network ECONNREFUSED', async () => {
    assert.equal(await mintFailureReason(`https://127.0.0.1:${closedPort}`), 'network ECONNREFUSED')
  })

  test('a voice API whose CA the app does not trust: network SELF_SIGNED_CERT_IN_CHAIN', async () => {
    const { port } = untrusted.address() as net.AddressInfo
    assert.equal(await mintFailureReason(`https://localhost:${port}`), 'network SELF_SIGNED_CERT_IN_CHAIN')
  })
})
