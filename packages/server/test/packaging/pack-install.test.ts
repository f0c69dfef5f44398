/**
 * The packages as users get them: `npm pack` each one, install the tarballs into a fresh project in
 * the system temp folder (no repository node_modules above it, so an undeclared dependency fails
 * here), then run the CLI through npx, import the libraries from Node, type-check a consumer under
 * both `bundler` and `node16` resolution, and build a page with Vite that speaks in Chromium against
 * the packed server.
 *
 * Fast on purpose: packages come from the npm cache (--prefer-offline), and install scripts are
 * skipped: better-sqlite3's would fetch a prebuilt binary from GitHub and fall back to compiling
 * SQLite, so the binary the repository already built is copied in instead (the same version is
 * pinned through `overrides`).
 */
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { testTls } from '../helpers/server.ts'
import { launchChromium, requireChromium } from '../helpers/chromium.ts'

const ROOT = path.resolve(import.meta.dirname, '../../../..')
const PACKAGES = ['@voxgate/protocol', '@voxgate/client', '@voxgate/app-kit', '@voxgate/server']
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc')
const VITE = path.join(ROOT, 'node_modules/vite/bin/vite.js')
const NPM_QUIET = ['--prefer-offline', '--no-audit', '--no-fund']

/** The environment a user's shell would have: none of npm's per-script variables or the test's own. */
const userEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) =>
      !/^(npm_(?!config_(cache|userconfig|registry)$)|VOXGATE_|NODE_OPTIONS$|NODE_EXTRA_CA_CERTS$)/i.test(name),
  ),
)

const exec = promisify(execFile)
const run = (file: string, args: string[], cwd: string) =>
  exec(file, args, { cwd, env: userEnv, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 120_000 })

function httpsJson(
  url: string,
  ca: Buffer,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
) {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body)
    const req = request(
      url,
      {
        ca,
        method: init.method ?? 'GET',
        headers: { ...init.headers, ...(body && { 'content-type': 'application/json' }) },
      },
      (res) => {
        let text = ''
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
      },
    )
    req.on('error', reject).end(body)
  })
}

function httpsText(url: string, ca: Buffer) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>(
    (resolve, reject) => {
      request(url, { ca }, (res) => {
        let text = ''
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      })
        .on('error', reject)
        .end()
    },
  )
}

/** The tarballs, installed into a fresh project the way a user would (`npm install <tarballs>`). */
async function installPacked(project: string): Promise<void> {
  await run(process.execPath, [TSC, '-b', 'tsconfig.build.json'], ROOT)
  // The console's files, which @voxgate/server ships (`npm run build` makes them; skipped when unchanged).
  await run(process.execPath, ['--import', 'tsx', 'scripts/build-console.ts'], ROOT)
  const packed = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', project, ...PACKAGES.flatMap((p) => ['-w', p])],
    ROOT,
  )
  const tarballs = (JSON.parse(packed.stdout) as { filename: string }[]).map((p) => `./${p.filename}`)
  const sqlite = path.join(ROOT, 'node_modules/better-sqlite3')
  const sqliteVersion = (JSON.parse(readFileSync(path.join(sqlite, 'package.json'), 'utf8')) as { version: string })
    .version
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', overrides: { 'better-sqlite3': sqliteVersion } }),
  )
  await run('npm', ['install', '--ignore-scripts', ...NPM_QUIET, ...tarballs], project)
  const binary = 'build/Release/better_sqlite3.node'
  mkdirSync(path.join(project, 'node_modules/better-sqlite3', path.dirname(binary)), { recursive: true })
  cpSync(path.join(sqlite, binary), path.join(project, 'node_modules/better-sqlite3', binary))
}

interface Serving {
  child: ChildProcess
  url: string
  caFile: string
  output: () => string
}

/** `npx voxgate serve` in its own process group, as a terminal would run it; resolves once it listens. */
function serve(project: string, args: string[]): Promise<Serving> {
  const child = spawn('npx', ['--no-install', 'voxgate', 'serve', ...args], {
    cwd: project,
    env: userEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`voxgate serve did not start:\n${out}`)), 60_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const url = /voxgate listening on (https:\/\/\S+)/.exec(out)?.[1]
      const caFile = /NODE_EXTRA_CA_CERTS=(\S+)/.exec(out)?.[1]
      if (url && caFile) {
        clearTimeout(timer)
        resolve({ child, url, caFile, output: () => out })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`voxgate serve exited (${code}):\n${out}`)))
  })
}

const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

describe('packed packages, installed into a fresh project', () => {
  const project = mkdtempSync(path.join(tmpdir(), 'voxgate-pack-'))
  const dataDir = path.join(project, 'voxgate-data')
  let apiKey: string
  let page: Server
  let pageOrigin: string
  let voxgate: Serving | undefined

  before(async () => {
    const tls = testTls()
    page = createServer({ cert: readFileSync(tls.tlsCertFile), key: readFileSync(tls.tlsKeyFile) })
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
    pageOrigin = `https://127.0.0.1:${(page.address() as AddressInfo).port}`
    await installPacked(project)
  })

  after(async () => {
    if (voxgate?.child.pid && groupAlive(voxgate.child.pid)) process.kill(-voxgate.child.pid, 'SIGKILL')
    await new Promise((resolve) => page.close(resolve))
    rmSync(project, { recursive: true, force: true })
  })

  test('npx voxgate --help and keys create', async () => {
    const help = await run('npx', ['--no-install', 'voxgate', '--help'], project)
    assert.match(help.stdout, /Usage: voxgate <command>/)
    const created = await run(
      'npx',
      ['--no-install', 'voxgate', 'keys', 'create', '--json', '--data', dataDir],
      project,
    )
    apiKey = (JSON.parse(created.stdout) as { key: string }).key
    assert.match(apiKey, /^sk_vx_/)
  })

  test('npx voxgate serve answers GET / over TLS from the development CA it created', async () => {
    // One speech worker (a flag a user may pass too): the page speaks two sentences.
    voxgate = await serve(project, [
      '--port',
      '0',
      '--data',
      dataDir,
      '--allowed-origin',
      pageOrigin,
      '--console',
      '--speech-workers',
      '1',
    ])
    assert.ok(voxgate.caFile.startsWith(dataDir), voxgate.caFile)
    const res = await httpsJson(`${voxgate.url}/`, readFileSync(voxgate.caFile))
    assert.equal(res.status, 200)
    assert.equal((res.body as { ok: boolean }).ok, true)
  })

  test('the installed server serves the console at /console/, and console-link prints its sign-in link', async () => {
    const ca = readFileSync(voxgate!.caFile)
    const page = await httpsText(`${voxgate!.url}/console/`, ca)
    assert.equal(page.status, 200)
    assert.match(page.headers['content-security-policy'] as string, /^default-src 'self'; /)
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.text)?.[1]
    assert.ok(script, page.text)
    const asset = await httpsText(`${voxgate!.url}${script}`, ca)
    assert.equal(asset.status, 200)
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable')
    const link = await run(
      'npx',
      ['--no-install', 'voxgate', 'console-link', '--data', dataDir, '--public-url', voxgate!.url],
      project,
    )
    assert.match(link.stdout.trim(), new RegExp(`^${voxgate!.url}/console/login#code=[A-Za-z0-9_-]{43}$`))
  })

  test('Node imports every package as ESM; no TypeScript loader is involved', async () => {
    const script = `const [c, k, s, p] = await Promise.all(['@voxgate/client', '@voxgate/app-kit', '@voxgate/server', '@voxgate/protocol'].map((m) => import(m)))
      console.log(JSON.stringify([typeof c.VoxgateClient, typeof c.TokenSource, typeof k.createTokenRoute, typeof s.startServer, typeof p.VoxgateError]))`
    const r = await run(process.execPath, ['--input-type=module', '-e', script], project)
    assert.deepEqual(JSON.parse(r.stdout), ['function', 'function', 'function', 'function', 'function'])
  })

  test('types resolve for a consumer (client, app-kit, server) under moduleResolution bundler and node16', async () => {
    writeFileSync(
      path.join(project, 'consumer.ts'),
      `
      import { AudioPlayer, TokenSource, VoxgateClient, type SpeakRequest } from '@voxgate/client'
      import { createTokenRoute, type AppKitOptions } from '@voxgate/app-kit'
      import { startServer, type VoxgateServer } from '@voxgate/server'
      export const starting: Promise<VoxgateServer> = startServer({ port: 0, dataDir: 'voxgate-data' })
      const tokens = new TokenSource({ endpoint: '/token' })
      export const client = new VoxgateClient({ baseUrl: 'https://127.0.0.1:8443', tokens })
      export const request: SpeakRequest = { model_id: 'sonic-3', voice: 'v', transcript: 'Hi.', output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24000 } }
      // @ts-expect-error a wrong option must fail to type-check: the types are real, not \`any\`
      new VoxgateClient({ baseUrl: 42, tokens })
      export { AudioPlayer, createTokenRoute }
      export type { AppKitOptions }
    `,
    )
    const common = [
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--lib',
      'es2023,dom,dom.iterable',
      '--typeRoots',
      path.join(ROOT, 'node_modules/@types'),
      '--types',
      'node',
      'consumer.ts',
    ]
    const settings = [
      ['--module', 'esnext', '--moduleResolution', 'bundler'],
      ['--module', 'node16', '--moduleResolution', 'node16'],
    ]
    const results = await Promise.allSettled(
      settings.map((s) => run(process.execPath, [TSC, ...s, ...common], project)),
    )
    results.forEach((r, i) =>
      assert.equal(
        r.status,
        'fulfilled',
        `${settings[i]?.join(' ')}: ${r.status === 'rejected' ? (r.reason as { stdout?: string }).stdout : ''}`,
      ),
    )
  })

  test('a Vite production build of a page importing @voxgate/client speaks in Chromium', async (t) => {
    requireChromium()
    assert.ok(voxgate, 'the server runs')
    const web = path.join(project, 'web')
    mkdirSync(web)
    writeFileSync(
      path.join(web, 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>packed</title><script type="module" src="./main.ts"></script>\n',
    )
    writeFileSync(
      path.join(web, 'main.ts'),
      `
      import { AudioPlayer, TokenSource, VoxgateClient, type Transport } from '@voxgate/client'
      async function speak(baseUrl: string, transport: Transport) {
        const tokens = new TokenSource({ endpoint: '/token' })
        const client = new VoxgateClient({ baseUrl, tokens })
        let voice = ''
        for await (const v of client.voices.list({ limit: 1 })) { voice = v.id; break }
        const player = new AudioPlayer()
        await player.play(client.speak({ model_id: 'sonic-3', voice, transcript: 'Hello from the packed client.',
          output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24000 } }, { transport }))
        const heard = { chunks: player.chunksScheduled, samples: player.samplesScheduled }
        player.stop(); client.close(); tokens.close()
        return heard
      }
      Object.assign(globalThis, { speak })
    `,
    )
    const dist = path.join(project, 'web-dist')
    await run(process.execPath, [VITE, 'build', web, '--outDir', dist, '--logLevel', 'warn'], project)
    const [asset] = readFileSync(path.join(dist, 'index.html'), 'utf8').match(/\/assets\/[\w.-]+\.js/) ?? []
    assert.ok(asset, 'the built page loads a script')

    const ca = readFileSync(voxgate.caFile)
    const voxgateUrl = voxgate.url
    page.on('request', (req, res) => {
      if (req.method === 'POST' && req.url === '/token') {
        req.resume()
        // The app backend's job: mint a short-lived token with the API key, which stays on the server.
        void httpsJson(`${voxgateUrl}/access-token`, ca, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}` },
          body: { grants: { tts: true, voices: true }, expires_in: 60 },
        }).then(
          ({ body }) => {
            const token = (body as { token: string }).token
            const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
              exp: number
            }
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_at: exp }))
          },
          () => res.writeHead(502).end(),
        )
        return
      }
      const file = req.url === '/' ? 'index.html' : (req.url ?? '').slice(1)
      if (!/^(index\.html|assets\/[\w.-]+)$/.test(file)) return void res.writeHead(404).end()
      res
        .writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' })
        .end(readFileSync(path.join(dist, file)))
    })

    const browser = await launchChromium()
    try {
      // Chromium does not trust the test CA or voxgate's development CA.
      const tab = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage()
      await tab.addInitScript({ content: 'globalThis.__name = (f) => f' }) // tsx's keepNames helper, for the functions below
      await tab.goto(`${pageOrigin}/`)
      await tab.waitForFunction(() => 'speak' in globalThis)
      for (const transport of ['bytes', 'websocket'] as const) {
        const heard = await tab.evaluate(
          ([url, tr]) =>
            (
              globalThis as unknown as { speak(u: string, t: string): Promise<{ chunks: number; samples: number }> }
            ).speak(url, tr),
          [voxgateUrl, transport] as const,
        )
        t.diagnostic(`${transport}: ${JSON.stringify(heard)}`)
        assert.ok(
          heard.chunks > 0 && heard.samples > 24000 * 0.5,
          `${transport}: speech reached the player (${JSON.stringify(heard)})`,
        )
      }
    } finally {
      await browser.close()
    }
  })

  test('SIGTERM stops the server', async () => {
    assert.ok(voxgate?.child.pid, 'the server runs')
    const { child } = voxgate
    const pid = child.pid ?? 0
    const exited = new Promise((resolve) => child.once('exit', resolve))
    process.kill(-pid, 'SIGTERM') // the whole group, as Ctrl-C in a terminal reaches npx and the server alike
    await exited
    for (const deadline = Date.now() + 10_000; groupAlive(pid) && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 100))
    assert.equal(groupAlive(pid), false, `voxgate still running after SIGTERM:\n${voxgate.output()}`)
  })
})
