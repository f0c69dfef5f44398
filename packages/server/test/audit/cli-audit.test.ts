/**
 * The CLI's side of issue 22: `voxgate keys rotate`, the last admin key kept by `keys revoke`, every
 * CLI change in the audit log as made by the CLI, and `voxgate audit` reading it.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const BIN = path.resolve(import.meta.dirname, '../../bin/voxgate.mjs')
const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-cli-audit-'))
after(() => rmSync(dataDir, { recursive: true, force: true }))

function voxgate(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, VOXGATE_DATA_DIR: dataDir },
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const json = (...args: string[]) => {
  const r = voxgate(...args, '--json')
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}
const usageError = (args: string[], message: RegExp) => {
  const r = voxgate(...args)
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  assert.match(r.stderr, message)
}

describe('voxgate keys rotate, keys revoke and audit', () => {
  test('the last admin key: keys revoke refuses it (exit 1, last_admin_key), as the HTTP API does', () => {
    const first = json('keys', 'create', '--name', 'ops')
    assert.deepEqual(first.scopes, ['admin'])
    const r = voxgate('keys', 'revoke', first.id)
    assert.deepEqual(
      [r.code, r.stderr.trim()],
      [1, `voxgate: last_admin_key: ${first.id} is the last admin key; create another admin key first`],
    )
    assert.equal(json('keys', 'list').find((k: { id: string }) => k.id === first.id).revoked_at, null)
  })

  test('keys rotate: a new secret once; the old one until --grace-seconds (default 86400, 0 to 604800) have passed', () => {
    const key = json('keys', 'create', '--name', 'app')
    const before = Date.now()
    const rotated = json('keys', 'rotate', key.id)
    const until = Date.parse(rotated.rotating_until)
    assert.ok(until >= before + 86_400_000 && until <= Date.now() + 86_400_000, rotated.rotating_until)
    assert.deepEqual(Object.keys(rotated).sort(), ['id', 'key', 'prefix', 'rotating_until'])
    assert.match(rotated.key, /^sk_vx_[A-Za-z0-9_-]{43}$/)
    assert.notEqual(rotated.key, key.key)
    const listed = json('keys', 'list').find((k: { id: string }) => k.id === key.id)
    assert.deepEqual([listed.prefix, listed.rotating_until], [rotated.key.slice(0, 12), rotated.rotating_until])
    const capped = json('keys', 'rotate', key.id, '--grace-seconds', '604800')
    assert.ok(Date.parse(capped.rotating_until) - Date.now() > 604_700_000)
    const text = voxgate('keys', 'rotate', key.id, '--grace-seconds', '0')
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^Rotated key_\S+\. Its new secret is shown only this once:\n\n {2}sk_vx_\S{43}\n/)
    usageError(['keys', 'rotate', key.id, '--grace-seconds', '604801'], /--grace-seconds: .* 0 to 604800/)
    usageError(['keys', 'rotate', key.id, '--grace-seconds', '1.5'], /--grace-seconds/)
    usageError(['keys', 'rotate', 'key_nope'], /no active key with id key_nope/)
    usageError(['keys', 'rotate'], /exactly one key id/)
    usageError(['keys', 'create', '--grace-seconds', '5'], /--grace-seconds goes with keys rotate only/)
  })

  test('every CLI change is in the audit log, made by the CLI; voxgate audit filters, pages and bounds --limit', () => {
    const key = json('keys', 'create', '--name', 'audited', '--scopes', 'mint')
    json('keys', 'rotate', key.id, '--grace-seconds', '60')
    const quota = json('quotas', 'set', '--period', 'day', '--sub', 'ann', '--characters', '10')
    assert.equal(voxgate('quotas', 'remove', quota.id).code, 0)
    const kid = json('keys', 'rotate-signing').kid
    json('keys', 'revoke', key.id)
    const log = json('audit', '--limit', '6')
    assert.deepEqual(
      log.data.map((r: { action: string; target: { id: string } }) => [r.action, r.target.id]),
      [
        ['api_key.revoked', key.id],
        ['signing_key.rotated', kid],
        ['quota.removed', quota.id],
        ['quota.set', quota.id],
        ['api_key.rotated', key.id],
        ['api_key.created', key.id],
      ],
    )
    for (const row of log.data) {
      assert.deepEqual(row.actor, { type: 'cli' })
      assert.match(row.request_id, /^[0-9a-f-]{36}$/)
      assert.equal(row.ip, undefined)
    }
    assert.deepEqual(log.data.at(-1).details, { name: 'audited', scopes: ['mint'], policy: null, expires_at: null })
    assert.ok(!JSON.stringify(log).includes(key.key), 'never a secret')
    assert.equal(typeof log.next_cursor, 'string', 'older rows remain')
    const older = json('audit', '--limit', '6', '--cursor', log.next_cursor)
    assert.ok(older.data.every((r: { action: string }) => r.action !== 'api_key.revoked'))
    assert.deepEqual(
      json('audit', '--target-id', key.id, '--action', 'api_key.rotated').data.map((r: { details: unknown }) =>
        Object.keys(r.details as object),
      ),
      [['grace_seconds', 'rotating_until']],
    )
    const text = voxgate('audit', '--target-id', key.id, '--limit', '1')
    assert.equal(text.code, 0, text.stderr)
    assert.match(
      text.stdout,
      /^\S+Z {2}api_key\.revoked {2}by cli {2}on api_key:key_\S+ {2}\{\} {2}request \S+\nMore: voxgate audit --cursor \S+/,
    )
    assert.equal(json('audit', '--limit', '1000').data.length, log.data.length + older.data.length)
    usageError(['audit', '--limit', '1001'], /--limit/)
    usageError(['audit', '--action', 'nope'], /--action/)
    usageError(['audit', '--to', '2026-13-01'], /--to/)
  })
})
