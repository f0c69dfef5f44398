import { after } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openStore } from '../../src/store/open.ts'
import { storeContract } from './contract.ts'

const folders: string[] = []
after(() => { for (const f of folders) rmSync(f, { recursive: true, force: true }) })

storeContract('SQLite (embedded default)', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-store-'))
  folders.push(dataDir)
  return openStore({ dataDir })
})
