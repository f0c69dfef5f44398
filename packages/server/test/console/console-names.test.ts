/**
 * The console's lists of audit actions and webhook events come from the server's own constants
 * (console/src/server-names.ts, bundled by Vite), never from a copy: a name in the console's source
 * the server does not know fails here, and so does a copied list. console-admin-browser.test.ts
 * checks the same in the page (the Audit log's action filter and the webhook dialog's events).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { AUDIT_ACTIONS } from '../../src/store/audit-types.ts'
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/events.ts'

const SOURCE = path.resolve(import.meta.dirname, '../../console/src')
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  )
const sources = files(SOURCE)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: path.relative(SOURCE, f), text: readFileSync(f, 'utf8') }))

/** The areas of the server's action and event names (`api_key`, `quota`, `console`, …). */
const AREAS = new Set([...AUDIT_ACTIONS, ...WEBHOOK_EVENT_TYPES].map((n) => n.split('.')[0]))
const KNOWN = new Set<string>([...AUDIT_ACTIONS, ...WEBHOOK_EVENT_TYPES, 'webhook.test'])

describe("the console's names come from the server", () => {
  test('every action or event name written in the console source is one the server has', () => {
    const unknown: string[] = []
    for (const { file, text } of sources)
      for (const [, name] of text.matchAll(/['"`]([a-z_]+\.[a-z_]+)['"`]/g))
        if (AREAS.has(name!.split('.')[0]!) && !KNOWN.has(name!)) unknown.push(`${file}: ${name}`)
    assert.deepEqual(unknown, [])
  })

  test('no page holds a list of them: the full lists are imported from the server', () => {
    const copies = sources.filter(
      ({ file, text }) =>
        file !== 'server-names.ts' &&
        (AUDIT_ACTIONS.filter((a) => text.includes(`'${a}'`)).length > 3 ||
          WEBHOOK_EVENT_TYPES.filter((e) => text.includes(`'${e}'`)).length > 3),
    )
    assert.deepEqual(
      copies.map((c) => c.file),
      [],
    )
    const names = sources.find((s) => s.file === 'server-names.ts')!.text
    assert.match(names, /export \{ AUDIT_ACTIONS, type AuditAction \} from '\.\.\/\.\.\/src\/store\/audit-types\.ts'/)
    assert.match(names, /export \{ WEBHOOK_EVENT_TYPES \} from '\.\.\/\.\.\/src\/webhooks\/events\.ts'/)
  })
})
