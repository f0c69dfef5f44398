/**
 * The console sessions contract (src/store/console-sessions.ts): sign-in codes and sessions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { WithStore } from './helpers.ts'

export function consoleSessionsContract(withStore: WithStore): void {
  test('console sign-in codes: used once, only before they expire; concurrent takes: one wins', () =>
    withStore(async (s) => {
      await s.addConsoleLoginCode('code-a', 5000)
      await s.addConsoleLoginCode('code-b', 5000)
      await s.addConsoleLoginCode('code-c', 5000)
      assert.equal(await s.takeConsoleLoginCode('code-a', 4999), true)
      assert.equal(await s.takeConsoleLoginCode('code-a', 4999), false, 'used already')
      assert.equal(await s.takeConsoleLoginCode('code-b', 5000), false, 'expired at 5000')
      assert.equal(await s.takeConsoleLoginCode('code-b', 1), false, 'an expired code is gone once tried')
      assert.equal(await s.takeConsoleLoginCode('nope', 1), false)
      const racing = await Promise.all([1, 2, 3, 4].map(() => s.takeConsoleLoginCode('code-c', 1)))
      assert.deepEqual(racing.filter(Boolean).length, 1)
      const before = await s.version()
      await s.addConsoleLoginCode('code-d', 100)
      await s.pruneConsoleSessions(100, 0)
      assert.equal(await s.takeConsoleLoginCode('code-d', 1), false, 'pruned at its expiry')
      assert.equal(await s.version(), before, 'console codes never move the version')
    }))

  test('console sessions: created, read, touched forward only, ended once, pruned when expired or idle', () =>
    withStore(async (s) => {
      const session = (idHash: string, keyId: string | null = null) => ({
        idHash,
        keyId,
        scope: 'admin' as const,
        createdAt: 1000,
        lastSeenAt: 1000,
        expiresAt: 10_000,
      })
      await s.createConsoleSession(session('s1'))
      await s.createConsoleSession({ ...session('s2', 'key_1'), scope: 'read' })
      await s.createConsoleSession(session('s3'))
      assert.deepEqual(await s.getConsoleSession('s1'), session('s1'))
      assert.deepEqual(await s.getConsoleSession('s2'), { ...session('s2', 'key_1'), scope: 'read' })
      assert.equal(await s.getConsoleSession('none'), undefined)
      await s.touchConsoleSession('s1', 3000)
      await s.touchConsoleSession('s1', 2000)
      assert.equal((await s.getConsoleSession('s1'))?.lastSeenAt, 3000, 'never moves back')
      assert.equal(await s.endConsoleSession('s1'), true)
      assert.equal(await s.endConsoleSession('s1'), false)
      assert.equal(await s.getConsoleSession('s1'), undefined)
      await s.touchConsoleSession('s3', 5000)
      // s2 idle since 1000 (before 2000); s3 seen at 5000 and not expired at 9999.
      await s.pruneConsoleSessions(9999, 2000)
      assert.equal(await s.getConsoleSession('s2'), undefined)
      assert.equal((await s.getConsoleSession('s3'))?.lastSeenAt, 5000)
      await s.pruneConsoleSessions(10_000, 0)
      assert.equal(await s.getConsoleSession('s3'), undefined, 'expired at 10000')
    }))
}
