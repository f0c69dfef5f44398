import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mint } from '../../../server/test/helpers/http.ts'

export interface AppBackend {
  /** `http://127.0.0.1:<port>/token` (loopback, so plain HTTP is allowed). */
  url: string
  /** Every token minted so far, oldest first (the test may revoke one). */
  minted: string[]
  close(): Promise<void>
}

/**
 * A tiny stand-in for the app's own backend: POST /token mints a real token with the API key
 * (memory mode) and answers `{token, expires_at, issued_at}` from the token's own claims.
 */
export async function startAppBackend(voxgateUrl: string, apiKey: string, body: object): Promise<AppBackend> {
  const minted: string[] = []
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/token') return void res.writeHead(404).end()
    req.resume()
    mint(voxgateUrl, apiKey, body).then(
      (token) => {
        minted.push(token)
        const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
          iat: number
          exp: number
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        res.end(JSON.stringify({ token, expires_at: claims.exp, issued_at: claims.iat }))
      },
      () => res.writeHead(502).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/token`,
    minted,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
