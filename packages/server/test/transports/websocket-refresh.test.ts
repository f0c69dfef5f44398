import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { startSpeechServer, raw } from '../helpers/speech.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

let t: TestServer
let voice: string
before(async () => ({ t, voice } = await startSpeechServer()))
after(() => t.close())

const openStreams = async (token: string) => (await call(t.url, '/access-token/self', { headers: bearer(token) })).json.usage.open_streams
const gen = (context_id: string, transcript: string, extra: object = {}) => ({ model_id: 'sonic-3', voice, output_format: raw('pcm_s16le', 16000), context_id, transcript, ...extra })
const limited = (n: number) => mint(t.url, t.apiKey, { grants: { tts: true }, limits: { concurrent_streams: n } })

describe('in-band refresh_token and stream slots', () => {
  test('open contexts move to the fresh token: the old token\'s slots are freed', async () => {
    const [oldToken, freshToken] = [await limited(2), await limited(2)]
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${oldToken}` })
    s.send(gen('a', 'waiting', { continue: true }))
    s.send(gen('b', 'waiting', { continue: true }))
    s.send({ type: 'refresh_token', access_token: freshToken })
    await s.next((e) => e.type === 'token_refreshed')
    assert.equal(await openStreams(oldToken), 0)
    assert.equal(await openStreams(freshToken), 2)
    s.send({ context_id: 'a', cancel: true })
    await s.end('a')
    assert.equal(await openStreams(freshToken), 1)
    s.close()
  })

  test('a context the fresh token has no room for ends with concurrency_limited; the rest go on', async () => {
    const [oldToken, freshToken] = [await limited(2), await limited(1)]
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${oldToken}` })
    s.send(gen('x', 'waiting', { continue: true }))
    s.send(gen('y', 'waiting', { continue: true }))
    s.send({ type: 'refresh_token', access_token: freshToken })
    await s.next((e) => e.type === 'token_refreshed')
    const ends = s.events.filter((e) => e.done === true)
    assert.equal(ends.length, 1)
    assert.equal(ends[0].error_code, 'concurrency_limited')
    assert.equal(await openStreams(oldToken), 0)
    assert.equal(await openStreams(freshToken), 1)
    s.close()
  })
})
