/**
 * Gateway mode's HTTP relays against a recording fake upstream: flow control. A client that leaves
 * mid-stream drops the upstream request and frees its slot; a client that does not read stops the
 * upstream read, and reading again resumes it to the end. The rest of the relay's behaviour is in
 * http-fake-upstream.test.ts.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { bearer, mint } from '../helpers/http.ts'
import { audio, BODY, fake, gw, token, tts, useFakeGateway } from './fake-gateway.ts'

useFakeGateway()

describe('gateway HTTP relay: flow control', () => {
  test('a client that leaves mid-stream drops the upstream request and frees its slot', async () => {
    const one = await mint(gw.url, gw.apiKey, {
      grants: { tts: true },
      limits: { concurrent_streams: 1 },
      expires_in: 60,
    })
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(audio)
    }
    await new Promise<void>((resolve) => {
      const req = https.request(
        new URL('/tts/bytes', gw.url),
        { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(one) }, agent: false },
        (res) => {
          res.once('data', () => {
            req.destroy()
            resolve()
          })
        },
      )
      req.on('error', () => undefined)
      req.end(JSON.stringify(BODY))
    })
    await fake.until(() => fake.open === 0)
    fake.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(audio)
    assert.equal((await tts('/tts/bytes', bearer(one))).status, 200)
  })

  test('a client that does not read stops the upstream read; reading again resumes it to the end', async () => {
    const TOTAL = 64 * 1024 * 1024
    const block = Buffer.alloc(256 * 1024, 1)
    let written = 0
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const pump = () => {
        while (written < TOTAL) {
          written += block.length
          if (!res.write(block)) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
    }
    let received = 0
    const done = new Promise<boolean>((resolve) => {
      const req = https.request(
        new URL('/tts/bytes', gw.url),
        { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, agent: false },
        (res) => {
          res.pause()
          paused(res).then(() => {
            res.on('data', (c: Buffer) => {
              received += c.length
            })
            res.once('end', () => resolve(res.complete))
            res.resume()
          })
        },
      )
      req.end(JSON.stringify(BODY))
    })
    // Nothing to await for "nothing more happens": the fake's count is watched until it stops moving.
    const stalled = await stopsMoving(() => written)
    assert.ok(stalled < TOTAL / 2, `the gateway read ${stalled} bytes for a client that read none`)
    release()
    assert.equal(await done, true)
    assert.equal(received, TOTAL)
  })
})

let release: () => void = () => undefined
/** Resolves when the test calls `release()`. */
function paused(_res: unknown): Promise<void> {
  return new Promise((resolve) => {
    release = resolve
  })
}

async function stopsMoving(read: () => number): Promise<number> {
  let last = -1
  while (read() !== last) {
    last = read()
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  return last
}
