#!/usr/bin/env node
// The CLI runs the compiled JavaScript in dist/ (`npm run build`; `npm install` in the repository
// builds it): no TypeScript loader at run time.
import { main } from '../dist/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
