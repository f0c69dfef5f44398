import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'

/**
 * The console's built files: `dist-console/` next to `src/` and `dist/` (the same two levels up from
 * this module either way), made by `npm run build` (scripts/build-console.ts) and shipped in the package.
 */
export const CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../../dist-console/', import.meta.url))

/**
 * Every console page: its own files and nothing else. No inline script or style, no other host; the
 * client's WebSocket goes to this origin, which `connect-src 'self'` covers.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** Hashed file names change with their content: cached for a year and never revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
}

interface Asset {
  body: Buffer
  type: string
  cache: string
}

/** Reads the built console into memory (a few hundred kB); a server asked for it without it does not start. */
export function loadConsoleAssets(dir = CONSOLE_ASSETS_DIR): Map<string, Asset> {
  if (!existsSync(path.join(dir, 'index.html')))
    throw new Error(`--console: the console is not built (no ${dir}index.html); run npm run build`)
  const assets = new Map<string, Asset>()
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const full = path.join(folder, name)
      if (statSync(full).isDirectory()) walk(full)
      else if (!name.startsWith('.')) {
        const rel = path.relative(dir, full).split(path.sep).join('/')
        assets.set(rel, {
          body: readFileSync(full),
          type: TYPES[path.extname(name)] ?? 'application/octet-stream',
          cache: rel.startsWith('assets/') ? IMMUTABLE : 'no-cache',
        })
      }
    }
  }
  walk(dir)
  return assets
}

function send(reply: FastifyReply, asset: Asset): FastifyReply {
  return reply
    .header('content-type', asset.type)
    .header('cache-control', asset.cache)
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .send(asset.body)
}

/**
 * `GET /console/…`: a built file, or the console's page for any other path (its pages are paths of
 * one single-page app: `/console/keys`, `/console/login`). A missing hashed asset is a 404, not the page.
 */
export function registerConsoleAssets(app: FastifyInstance, assets: Map<string, Asset>): void {
  const page = assets.get('index.html')!
  app.get('/console', async (_request, reply) => reply.redirect('/console/', 308))
  app.get('/console/', async (_request, reply) => send(reply, page))
  app.get<{ Params: { '*': string } }>('/console/*', async (request, reply) => {
    const rel = request.params['*']
    const asset = assets.get(rel)
    if (asset) return send(reply, asset)
    if (rel.startsWith('assets/') || rel.startsWith('api/') || rel.includes('.'))
      throw new VoxgateError('not_found', `No console file ${rel}.`)
    return send(reply, page)
  })
}
