/**
 * `voxgate webhooks` and `voxgate quotas set --alert-at` on the store a server uses, and the outbox
 * across a crash (issue 22 items 4 and 6): an event whose receiver was down, a `kill -9` of the
 * `voxgate serve` process, an event enqueued by the CLI while no server runs; after the restart both
 * arrive, signed.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Webhook } from 'standardwebhooks'
import { BIN, listening, spawnServe, type ServeRun } from '../helpers/cli.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer, call } from '../helpers/http.ts'
import { testTls } from '../helpers/server.ts'
import { WebhookReceiver } from '../helpers/webhook-receiver.ts'

const folders: string[] = []
const runs: ServeRun[] = []
after(async () => {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL')
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})
const folder = () => {
  const f = mkdtempSync(path.join(tmpdir(), 'voxgate-webhooks-cli-'))
  folders.push(f)
  return f
}
const voxgate = (dataDir: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data', dataDir], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('voxgate webhooks', () => {
  test('add (refusing a loopback URL without --webhook-allow-private) | list | deliveries | remove, with --json', () => {
    const data = folder()
    const refused = voxgate(data, 'webhooks', 'add', 'https://127.0.0.1/hook', '--events', 'quota.threshold')
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /127\.0\.0\.1 is a private, loopback or link-local address/)
    const badEvent = voxgate(data, 'webhooks', 'add', 'https://93.184.215.14/', '--events', 'quota.nope')
    assert.equal(badEvent.code, 2)
    assert.match(badEvent.stderr, /--events/)
    const added = voxgate(
      data,
      'webhooks',
      'add',
      'http://127.0.0.1:9/hook?token=x',
      '--events',
      'quota.threshold,api_key.created',
      '--webhook-allow-private',
      '--json',
    )
    assert.equal(added.code, 0, added.stderr)
    const hook = JSON.parse(added.stdout)
    assert.deepEqual(
      [hook.url, hook.events],
      ['http://127.0.0.1:9/hook?token=x', ['quota.threshold', 'api_key.created']],
    )
    assert.match(hook.secret, /^whsec_/)
    const list = voxgate(data, 'webhooks', 'list', '--json')
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(JSON.parse(list.stdout), [
      { id: hook.id, url: hook.url, events: hook.events, created_at: hook.created_at },
    ])
    assert.ok(!list.stdout.includes(hook.secret))
    // A key made now is an api_key.created event for this webhook (no server runs: it waits in the outbox).
    assert.equal(voxgate(data, 'keys', 'create', '--name', 'k', '--json').code, 0)
    const deliveries = voxgate(data, 'webhooks', 'deliveries', hook.id, '--json')
    assert.equal(deliveries.code, 0, deliveries.stderr)
    const [d] = JSON.parse(deliveries.stdout)
    assert.deepEqual(
      [d.type, d.attempt, d.status_code, d.error, d.delivered_at],
      ['api_key.created', 0, null, null, null],
    )
    assert.equal(voxgate(data, 'webhooks', 'remove', hook.id).code, 0)
    const gone = voxgate(data, 'webhooks', 'remove', hook.id)
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /no webhook has the id/)
    assert.equal(voxgate(data, 'webhooks', 'list').stdout.trim(), 'No webhooks.')
  })

  test('keys rotate puts api_key.rotated in the outbox; webhooks add and remove are audited as made by the CLI', () => {
    const data = folder()
    const made = voxgate(data, 'keys', 'create', '--name', 'k', '--json')
    assert.equal(made.code, 0, made.stderr)
    const key = JSON.parse(made.stdout)
    const added = voxgate(
      data,
      'webhooks',
      'add',
      'http://127.0.0.1:9/hook?token=x',
      '--events',
      'api_key.rotated',
      '--webhook-allow-private',
      '--json',
    )
    assert.equal(added.code, 0, added.stderr)
    const hook = JSON.parse(added.stdout)
    assert.equal(voxgate(data, 'keys', 'rotate', 'key_nope').code, 2, 'no such key: no rotation, no event')
    const rotated = voxgate(data, 'keys', 'rotate', key.id, '--json')
    assert.equal(rotated.code, 0, rotated.stderr)
    // No server runs: the event waits in the outbox for the first one that starts.
    const deliveries = voxgate(data, 'webhooks', 'deliveries', hook.id, '--json')
    assert.equal(deliveries.code, 0, deliveries.stderr)
    assert.deepEqual(
      JSON.parse(deliveries.stdout).map((d: Record<string, unknown>) => [d.type, d.attempt, d.delivered_at]),
      [['api_key.rotated', 0, null]],
    )
    assert.equal(voxgate(data, 'webhooks', 'remove', hook.id).code, 0)
    assert.equal(voxgate(data, 'webhooks', 'remove', hook.id).code, 1)
    const log = voxgate(data, 'audit', '--target-id', hook.id, '--json')
    assert.equal(log.code, 0, log.stderr)
    assert.deepEqual(
      JSON.parse(log.stdout).data.map((r: Record<string, unknown>) => [r.action, r.actor, r.details]),
      [
        ['webhook.removed', { type: 'cli' }, {}],
        ['webhook.created', { type: 'cli' }, { url: 'http://127.0.0.1:9/***', events: ['api_key.rotated'] }],
      ],
    )
    assert.ok(!log.stdout.includes(hook.secret) && !log.stdout.includes('token=x'))
  })

  test('quotas set --alert-at takes fractions in (0, 1], at most 10; one more, 0 or 1.5 exit 2 naming the flag', () => {
    const data = folder()
    const set = voxgate(
      data,
      'quotas',
      'set',
      '--period',
      'day',
      '--sub',
      'ann',
      '--characters',
      '100',
      '--alert-at',
      '1,0.5,0.9',
      '--json',
    )
    assert.equal(set.code, 0, set.stderr)
    assert.deepEqual(JSON.parse(set.stdout).alert_at, [0.5, 0.9, 1])
    const ten = Array.from({ length: 10 }, (_, i) => (i + 1) / 10).join(',')
    assert.equal(voxgate(data, 'quotas', 'set', '--period', 'day', '--characters', '1', '--alert-at', ten).code, 0)
    for (const bad of [`${ten},0.05`, '0', '1.5', 'x']) {
      const r = voxgate(data, 'quotas', 'set', '--period', 'day', '--characters', '1', '--alert-at', bad)
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`)
      assert.match(r.stderr, /--alert-at/)
    }
  })
})

describe('the outbox across a crash', () => {
  test('kill -9 with an event waiting for a receiver that is down, an event enqueued by the CLI meanwhile: both arrive after the restart', async () => {
    const data = folder()
    const admin = JSON.parse(voxgate(data, 'keys', 'create', '--name', 'ops', '--json').stdout).key as string
    const receiver = await WebhookReceiver.start()
    const port = receiver.port
    await receiver.stop()
    const tls = testTls()
    const args = ['--port', '0', '--tls-cert', tls.tlsCertFile, '--tls-key', tls.tlsKeyFile, '--webhook-allow-private']
    const first = spawnServe(data, args)
    runs.push(first)
    const url = await listening(first)
    const hook = await call(url, '/webhooks', {
      headers: bearer(admin),
      body: { url: receiver.url(), events: ['api_key.created'] },
    })
    assert.equal(hook.status, 201, hook.text)
    const sent = await call(url, `/webhooks/${hook.json.id}/test`, { headers: bearer(admin), body: {} })
    assert.equal(sent.status, 202)
    const listed = async () =>
      (await call(url, `/webhooks/${hook.json.id}/deliveries`, { headers: bearer(admin) })).json.data
    await eventually(async () => (await listed())[0]?.attempt === 1, 'the first attempt failed', 15_000)
    assert.equal((await listed())[0].error, 'ECONNREFUSED')

    first.child.kill('SIGKILL')
    await first.exited
    const late = JSON.parse(voxgate(data, 'keys', 'create', '--name', 'late', '--json').stdout)
    await receiver.listen(port)
    try {
      const second = spawnServe(data, args)
      runs.push(second)
      await listening(second)
      await eventually(() => receiver.received.length === 2, 'both events arrive', 60_000)
      const byType = Object.fromEntries(receiver.received.map((r) => [r.json.type, r]))
      assert.equal(byType['webhook.test']!.headers['webhook-id'], sent.json.event_id)
      assert.deepEqual(byType['api_key.created']!.json.data.id, late.id)
      for (const r of receiver.received)
        assert.doesNotThrow(() => new Webhook(hook.json.secret).verify(r.body, r.headers as Record<string, string>))
      assert.equal(await second.stop(), 0)
    } finally {
      await receiver.stop()
    }
  })
})
