/**
 * A voxgate as the upstream of another: over HTTPS with the upstream's development CA trusted the
 * documented way (NODE_EXTRA_CA_CERTS, the built CLI in child processes), and over loopback plain
 * HTTP to one run with --insecure-http-behind-proxy. A refusal at start names the upstream's
 * `error_code`, so the operator is told which setting is wrong.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { UpstreamRefusedKey } from '../../src/gateway/start-check.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, testTls } from '../helpers/server.ts'
import { listening, spawnServe, waitFor } from '../helpers/cli.ts'

const root = mkdtempSync(path.join(tmpdir(), 'voxgate-chain-'))
after(() => rmSync(root, { recursive: true, force: true }))

const TTS = {
  model_id: 'sonic-3',
  transcript: 'Hello from the upstream.',
  voice: { mode: 'id', id: '' },
  output_format: { container: 'wav', encoding: 'pcm_s16le', sample_rate: 16000 },
}

/** Voices and speech through `gatewayUrl` are the upstream's. */
async function assertRelays(gatewayUrl: string, gatewayKey: string, upstreamVoiceIds: string[]) {
  const token = await mint(gatewayUrl, gatewayKey, { grants: { tts: true, voices: true }, expires_in: 60 })
  const voices = await call(gatewayUrl, '/voices?limit=100', { headers: bearer(token) })
  assert.equal(voices.status, 200, voices.text)
  assert.deepEqual(
    voices.json.data.map((v: { id: string }) => v.id),
    upstreamVoiceIds,
  )
  const speech = await fetch(`${gatewayUrl}/tts/bytes`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json', 'cartesia-version': '2025-04-16' },
    body: JSON.stringify({ ...TTS, voice: { mode: 'id', id: upstreamVoiceIds[0] } }),
  })
  assert.equal(speech.status, 200)
  const wav = Buffer.from(await speech.arrayBuffer())
  assert.equal(wav.subarray(0, 4).toString(), 'RIFF')
  assert.ok(wav.length > 1000, `${wav.length} bytes of WAV`)
}

describe('a gateway to a voxgate behind --insecure-http-behind-proxy, on loopback', () => {
  test('starts and relays: the gateway says X-Forwarded-Proto: https on the loopback hop', async () => {
    const upstream = await startTestServer({ insecureHttpBehindProxy: true })
    try {
      assert.match(upstream.url, /^http:\/\/127\.0\.0\.1:/)
      const gateway = await startTestServer({ upstreamUrl: upstream.url, upstreamApiKey: upstream.apiKey })
      try {
        // Straight to the upstream, the test stands in for its TLS proxy on loopback.
        const direct = { ...bearer(upstream.apiKey), 'x-forwarded-proto': 'https' }
        const ids = (await call(upstream.url, '/voices?limit=100', { headers: direct })).json.data
        await assertRelays(
          gateway.url,
          gateway.apiKey,
          ids.map((v: { id: string }) => v.id),
        )
      } finally {
        await gateway.close()
      }
    } finally {
      await upstream.close()
    }
  })

  test('an upstream that does not trust the gateway as its proxy: the start fails naming insecure_transport', async () => {
    const upstream = await startTestServer({ insecureHttpBehindProxy: true, trustedProxies: ['10.9.9.9'] })
    try {
      await assert.rejects(
        startTestServer({ upstreamUrl: upstream.url, upstreamApiKey: upstream.apiKey }),
        (err: unknown) => {
          assert.ok(err instanceof UpstreamRefusedKey)
          assert.match(err.message, /^the upstream refused the gateway's request \(HTTP 403, insecure_transport\): /)
          assert.match(err.message, /--trusted-proxy/)
          return true
        },
      )
    } finally {
      await upstream.close()
    }
  })

  test('a key the upstream voxgate does not know: the start fails naming invalid_credentials', async () => {
    const upstream = await startTestServer({ insecureHttpBehindProxy: true })
    try {
      const wrongKey = `${upstream.apiKey.slice(0, -4)}zzzz`
      await assert.rejects(startTestServer({ upstreamUrl: upstream.url, upstreamApiKey: wrongKey }), (err: unknown) => {
        assert.ok(err instanceof UpstreamRefusedKey)
        assert.match(
          err.message,
          /^the upstream refused voxgate's upstream API key \(HTTP 401, invalid_credentials\); /,
        )
        assert.ok(!err.message.includes(wrongKey))
        return true
      })
    } finally {
      await upstream.close()
    }
  })
})

describe('a gateway to a voxgate over HTTPS, its development CA trusted with NODE_EXTRA_CA_CERTS', () => {
  test('voxgate A relays voices and speech from voxgate B (both the built CLI)', async () => {
    const dirB = mkdtempSync(path.join(root, 'b-'))
    const dirA = mkdtempSync(path.join(root, 'a-'))
    // B as a newcomer runs it: a development certificate from its own CA, its first key in a file.
    const b = spawnServe(dirB, ['--port', '0'])
    try {
      const urlB = await listening(b)
      await waitFor(() => b.stderr().includes('first-api-key'), "B's first key")
      const keyB = readFileSync(path.join(dirB, 'first-api-key'), 'utf8').trim()
      const tls = testTls()
      const a = spawnServe(dirA, ['--port', '0', ...['--tls-cert', tls.tlsCertFile, '--tls-key', tls.tlsKeyFile]], {
        NODE_EXTRA_CA_CERTS: path.join(dirB, 'tls', 'dev-ca.pem'),
        VOXGATE_UPSTREAM: urlB.replace('127.0.0.1', 'localhost'),
        VOXGATE_UPSTREAM_API_KEY: keyB,
      })
      try {
        const urlA = await listening(a)
        await waitFor(() => a.stderr().includes('first-api-key'), "A's first key")
        const keyA = readFileSync(path.join(dirA, 'first-api-key'), 'utf8').trim()
        assert.ok(
          a.stdout().includes('"msg":"upstream reached"'),
          `A's start check reached B: ${a.stdout()} ${a.stderr()}`,
        )
        const voicesB = await call(urlB.replace('127.0.0.1', 'localhost'), '/voices?limit=100', {
          headers: bearer(keyB),
        }).catch(() => undefined)
        // The test process trusts only the test CA, not B's: B's voices are read through A instead.
        assert.equal(voicesB, undefined)
        const token = await mint(urlA, keyA, { grants: { voices: true }, expires_in: 60 })
        const ids = (await call(urlA, '/voices?limit=100', { headers: bearer(token) })).json.data.map(
          (v: { id: string }) => v.id,
        )
        assert.ok(ids.length > 0)
        await assertRelays(urlA, keyA, ids)
        assert.ok(!a.stdout().includes(keyB) && !a.stderr().includes(keyB), "B's key is in no output of A")
      } finally {
        assert.equal(await a.stop(), 0)
      }
    } finally {
      assert.equal(await b.stop(), 0)
    }
  })
})
