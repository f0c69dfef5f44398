/**
 * What a webhook may reach (issue 22 items 4 and 6): https:// only; private, loopback, link-local and
 * cloud metadata addresses refused when a webhook is added (400 webhook_url_not_allowed) and again
 * after DNS resolution at every delivery, where the connection goes to the very address checked.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { addressRefusal } from '../../src/webhooks/addresses.ts'
import { sendWebhook } from '../../src/webhooks/send.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer, call } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { WebhookReceiver } from '../helpers/webhook-receiver.ts'

let strict: TestServer
let receiver: WebhookReceiver
before(async () => {
  strict = await startTestServer()
  receiver = await WebhookReceiver.start()
})
after(async () => {
  await strict.close()
  await receiver.stop()
})

const add = (url: string) =>
  call(strict.url, '/webhooks', { headers: bearer(strict.apiKey), body: { url, events: ['quota.threshold'] } })

describe('at creation (400 webhook_url_not_allowed)', () => {
  for (const [url, reason] of [
    ['https://127.0.0.1/hook', /127\.0\.0\.1 is a private, loopback or link-local address/],
    ['https://[::1]/hook', /::1 is a private, loopback or link-local address/],
    ['https://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is a cloud metadata address/],
    ['https://10.0.0.1/hook', /10\.0\.0\.1 is a private, loopback or link-local address/],
    ['https://localhost/hook', /localhost resolves to (127\.0\.0\.1|::1) is a private/],
    ['https://[::ffff:127.0.0.1]/hook', /private, loopback or link-local/],
    ['https://[fe80::1]/hook', /private, loopback or link-local/],
    ['https://192.168.1.10/hook', /private, loopback or link-local/],
    ['http://93.184.215.14/hook', /must be https:\/\//],
    ['https://user:pw@93.184.215.14/hook', /user name or password/],
  ] as const) {
    test(url, async () => {
      const res = await add(url)
      assert.equal(res.status, 400, res.text)
      assert.equal(res.json.error_code, 'webhook_url_not_allowed')
      assert.match(res.json.message, reason)
    })
  }

  test('a public https address is accepted (no connection is made to add it)', async () => {
    const res = await add('https://93.184.215.14/hook')
    assert.equal(res.status, 201, res.text)
  })
})

describe('--webhook-allow-private', () => {
  test('allows loopback and http://, never cloud metadata (IPv4, IPv6, or IPv4 in IPv6)', () => {
    const allow = { allowPrivate: true }
    assert.equal(addressRefusal('127.0.0.1', allow), undefined)
    assert.equal(addressRefusal('::1', allow), undefined)
    assert.equal(addressRefusal('10.0.0.1', allow), undefined)
    for (const meta of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe'])
      assert.match(addressRefusal(meta, allow) ?? '', /cloud metadata/, meta)
  })

  test('without it, every private range is refused, public ones pass', () => {
    const strictly = { allowPrivate: false }
    for (const ip of [
      '0.0.0.0',
      '10.1.2.3',
      '100.64.0.1',
      '127.255.0.1',
      '169.254.1.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '198.18.0.1',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'ff02::1',
      '::ffff:10.0.0.1',
      '64:ff9b::7f00:1',
    ])
      assert.ok(addressRefusal(ip, strictly) !== undefined, ip)
    for (const ip of ['93.184.215.14', '172.32.0.1', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])
      assert.equal(addressRefusal(ip, strictly), undefined, ip)
  })
})

describe('at delivery', () => {
  test('a webhook whose name resolves to loopback by delivery time is refused then, and the receiver gets nothing', async () => {
    // As if the name resolved to a public address when it was added: the store has it, unchecked.
    const id = 'wh_rebound'
    await strict.server.ctx.store.createWebhook({
      id,
      url: `https://localhost:${receiver.port}/hook`,
      events: ['quota.threshold'],
      secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
      createdAt: Date.now(),
    })
    const res = await call(strict.url, `/webhooks/${id}/test`, { headers: bearer(strict.apiKey), body: {} })
    assert.equal(res.status, 202)
    const listed = async () =>
      (await call(strict.url, `/webhooks/${id}/deliveries`, { headers: bearer(strict.apiKey) })).json.data
    await eventually(async () => (await listed())[0]?.attempt === 1, 'the attempt is recorded')
    const [d] = await listed()
    assert.equal(d.status_code, null)
    assert.match(
      d.error,
      /^refused: localhost resolves to (127\.0\.0\.1|::1) is a private, loopback or link-local address$/,
    )
    assert.equal(receiver.received.length, 0)
  })

  test('a name with one private address among public ones is refused', async () => {
    const result = await sendWebhook({
      url: 'https://hooks.example.test/in',
      headers: {},
      body: '{}',
      policy: {
        allowPrivate: false,
        resolve: async () => [
          { address: '93.184.215.14', family: 4 },
          { address: '10.0.0.1', family: 4 },
        ],
      },
    })
    assert.deepEqual(result, {
      statusCode: null,
      error: 'refused: hooks.example.test resolves to 10.0.0.1 is a private, loopback or link-local address',
    })
  })

  test('the connection goes to the address resolved and checked: no second lookup of the name', async () => {
    let lookups = 0
    const before = receiver.received.length
    const result = await sendWebhook({
      // Not a name the system resolver knows: only the checked answer can lead to the receiver.
      url: `http://receiver.voxgate.invalid:${receiver.port}/hook`,
      headers: { 'webhook-id': 'msg_x' },
      body: '{"type":"webhook.test"}',
      policy: {
        allowPrivate: true,
        resolve: async () => {
          lookups++
          return [{ address: '127.0.0.1', family: 4 }]
        },
      },
    })
    assert.deepEqual(result, { statusCode: 200, error: null })
    assert.equal(lookups, 1)
    assert.equal(receiver.received.length, before + 1)
    assert.equal(receiver.received.at(-1)!.headers.host, `receiver.voxgate.invalid:${receiver.port}`)
  })
})

describe('the attempt timeout', () => {
  test('a receiver that never answers, or a name that never resolves, fails the attempt at its timeout', async () => {
    const silent = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()))
    try {
      const port = (silent.address() as AddressInfo).port
      const policy = { allowPrivate: true }
      const mute = await sendWebhook({
        url: `http://127.0.0.1:${port}/`,
        headers: {},
        body: '{}',
        policy,
        timeoutMs: 200,
      })
      assert.deepEqual(mute, { statusCode: null, error: 'no answer within 0.2 s' })
      const hanging = await sendWebhook({
        url: 'https://stuck.voxgate.invalid/',
        headers: {},
        body: '{}',
        policy: { allowPrivate: false, resolve: () => new Promise(() => undefined) },
        timeoutMs: 200,
      })
      assert.deepEqual(hanging, { statusCode: null, error: 'no answer within 0.2 s' })
    } finally {
      silent.closeAllConnections()
      await new Promise((resolve) => silent.close(resolve))
    }
  })
})
