#!/usr/bin/env node
// The CLI runs from TypeScript source through tsx: no build step between a clone and `npm start`.
import { register } from 'tsx/esm/api'
register()
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
