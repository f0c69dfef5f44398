/**
 * One definition of a character on every transport: Unicode code points of the transcript, Sonic-3
 * markup excluded (`countCharacters` in @voxgate/protocol). Budgets, usage and the request limit all
 * count that way, and a stream that runs to its end is charged the same on bytes, SSE and WebSocket.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { countCharacters, TRANSCRIPT_MAX_CHARS } from '@voxgate/protocol'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds } from '../helpers/security.ts'

let t: TestServer
let voice: string
before(async () => {
  t = await startTestServer()
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
})
after(() => t.close())

const tokenWith = (characters: number) => mint(t.url, t.apiKey, { grants: { tts: true }, limits: { characters } })
const used = async (token: string): Promise<number> =>
  (await call(t.url, '/access-token/self', { headers: bearer(token) })).json.usage.characters

/** Speaks `pieces` over a transport (several WebSocket messages with `continue`); resolves with the terminal event or status. */
async function speak(transport: 'bytes' | 'sse' | 'websocket', token: string, pieces: string[]): Promise<string> {
  if (transport !== 'websocket') {
    const res = await call(t.url, `/tts/${transport}`, {
      headers: bearer(token),
      body: ttsBody(voice, pieces.join('')),
    })
    if (res.status !== 200) return res.json.error_code
    return transport === 'sse' && !res.text.includes('event: done') ? 'no done event' : 'done'
  }
  const inbox = await openInbox(t.url, { query: `?access_token=${token}` })
  try {
    pieces.forEach((p, i) => inbox.send({ ...ttsBody(voice, p), context_id: 'c', continue: i < pieces.length - 1 }))
    const end = await inbox.terminal('c')
    return end.type === 'done' ? 'done' : end.error_code
  } finally {
    closeQuietly(inbox.ws)
  }
}

const CASES = [
  { name: 'an emoji is one character, not two UTF-16 units', pieces: ['Wave 👋 hello 👋.'], expected: 15 },
  {
    name: 'Sonic-3 markup counts for nothing',
    pieces: ['Wait <break time="1s"/>for it. <spell>AB</spell> <volume ratio="0.5"/>done.'],
    expected: 21,
  },
  { name: 'text that only looks like markup is text', pieces: ['Is a < b and b > c?'], expected: 19 },
  {
    name: 'pieces sent with continue count as their concatenation',
    pieces: ['Hello ', 'there 👋. ', 'And <speed ratio="1.2"/>more.'],
    expected: 24,
  },
] as const

describe('what a character is, on every transport', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      assert.equal(countCharacters(c.pieces.join('')), c.expected)
      for (const transport of ['bytes', 'sse', 'websocket'] as const) {
        // A budget of exactly the text's characters is enough, and all of it is charged.
        const token = await tokenWith(c.expected)
        assert.equal(await speak(transport, token, [...c.pieces]), 'done', transport)
        assert.equal(await used(token), c.expected, transport)
        // One character short of it is refused up front, and costs nothing.
        const short = await tokenWith(c.expected - 1)
        assert.equal(await speak(transport, short, [c.pieces.join('')]), 'quota_exceeded', transport)
        assert.equal(await used(short), 0, transport)
      }
    })
  }
})

describe('the request limit counts the same characters', () => {
  const at = '👋'.repeat(TRANSCRIPT_MAX_CHARS)

  test(`${TRANSCRIPT_MAX_CHARS} emoji (twice as many UTF-16 units) pass; one more is 400 transcript_too_long`, async () => {
    assert.equal(at.length, 2 * TRANSCRIPT_MAX_CHARS)
    const ok = await call(t.url, '/tts/bytes', { headers: bearer(t.apiKey), body: ttsBody(voice, at) })
    assert.equal(ok.status, 200, ok.text.slice(0, 200))
    const over = await call(t.url, '/tts/bytes', { headers: bearer(t.apiKey), body: ttsBody(voice, `${at}👋`) })
    assert.equal(over.status, 400)
    assert.equal(over.json.error_code, 'transcript_too_long')
  })

  test('markup does not count toward the limit', async () => {
    const text = 'a'.repeat(TRANSCRIPT_MAX_CHARS) + '<break time="1s"/>'.repeat(10)
    const res = await call(t.url, '/tts/sse', { headers: bearer(t.apiKey), body: ttsBody(voice, text) })
    assert.equal(res.status, 200, res.text.slice(0, 200))
  })
})
