/**
 * The shared scene of the gateway's HTTP relay tests: a recording fake upstream (the network edge,
 * faked so each failure can be staged) and a gateway in front of it, one pair per test file. The
 * bindings below are live: a test file calls `useFakeGateway()` at its top and then reads them.
 */
import { after, afterEach, before } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { rawRequest } from '../helpers/raw-request.ts'

export const UPSTREAM_KEY = 'sk_car_upstream-secret-0123456789abcdef'
export const ORIGIN = 'https://app.example'
export const VERSION = '2025-04-16'
export const BODY = {
  model_id: 'sonic-3',
  transcript: 'Hello from the gateway.',
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
}
/** Every answer any test got, to prove the upstream key never reached a client. */
export const answers: string[] = []

export let fake: FakeHttpUpstream
export let gw: TestServer
export let token: string
/** What the upstream received while the gateway started. */
export let startCheck: FakeHttpUpstream['requests'][number][]

export function useFakeGateway(): void {
  before(async () => {
    fake = await FakeHttpUpstream.start()
    gw = await startTestServer({
      upstreamUrl: fake.url,
      upstreamApiKey: UPSTREAM_KEY,
      upstreamTimeoutMs: 1000,
      allowedOrigins: [ORIGIN],
      sttUploadLimitBytes: 64 * 1024,
    })
    token = await mint(gw.url, gw.apiKey, { grants: { tts: true, voices: true }, expires_in: 600 })
    startCheck = [...fake.requests]
    fake.reset()
  })
  afterEach(async () => {
    // Every test leaves no connection open to the upstream, whatever happened.
    await fake.until(() => fake.open === 0)
    fake.reset()
  })
  after(async () => {
    await gw.close()
    await fake.close()
    for (const text of [...answers, gw.logs.text()])
      assert.ok(!text.includes(UPSTREAM_KEY), 'the upstream key reached a client or a log')
  })
}

export async function tts(path: string, headers: Record<string, string> = {}, body: unknown = BODY) {
  const res = await rawRequest(gw.url, path, {
    headers: { 'content-type': 'application/json', ...bearer(token), ...headers },
    body: JSON.stringify(body),
  })
  answers.push(JSON.stringify(res.headers), res.body.toString('latin1'))
  return res
}

export const audio = Buffer.alloc(3200, 7)

/** Reads an SSE body up to its first whole event, runs `between`, then reads the rest to its end. */
export async function readAround(res: Response, between: () => Promise<unknown>): Promise<string> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value, { stream: true })
  await between()
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true })
  answers.push(text)
  return text
}
