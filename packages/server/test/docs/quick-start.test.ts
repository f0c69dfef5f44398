/**
 * The README's quick start, run as written: the server `npm start` runs, started in a fresh folder,
 * then the quick start's shell blocks verbatim in bash (curl, jq, `npx voxgate`), then the docs'
 * speech-to-text try-out with the token they minted. The WAV they write must be speech. Every other
 * shell block in README.md and docs/ must say why no test runs it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { request } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseWavHeader, rmsS16 } from '../helpers/audio.ts'
import { documentedPages, REPO_ROOT, runnableBlocks, shellBlocks, type ShellBlock } from './shell-blocks.ts'

/** The sections whose blocks this file runs, in order, in one bash session (later ones use earlier variables). */
const QUICK_START = { file: 'README.md', section: 'Quick start' }
const STT_TRY_IT = { file: 'docs/speech-to-text.md', section: 'Try it' }
const TOKENS_TRY_IT = { file: 'docs/tokens-and-grants.md', section: 'Try it' }
const QUOTAS_TRY_IT = { file: 'docs/usage-quotas-metrics.md', section: 'Try it' }
const RUN_HERE = [QUICK_START, STT_TRY_IT, TOKENS_TRY_IT, QUOTAS_TRY_IT]

const POCKETSPHINX_MODEL = '/usr/share/pocketsphinx/model/en-us'
// Generous deadlines, so a loaded machine passes and a broken start fails rather than hangs.
const START_WITHIN_MS = 60_000
const BLOCKS_WITHIN_MS = 60_000
/** Where one run of blocks leaves its shell variables for the next (inside the test's own folder). */
const SESSION = '.docs-test-session'

describe('the README quick start, run as written', { timeout: 240_000 }, () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'voxgate-quick-start-'))
  const env = quickStartEnv()
  let server: ChildProcess | undefined

  before(async () => {
    for (const tool of ['curl', 'jq']) assertInstalled(tool)
    linkRepository(folder)
    env.VOXGATE_PORT = String(await freePort())
    // One speech worker instead of one per core: the commands are the reader's, the server's size is the test's.
    env.VOXGATE_SPEECH_WORKERS = '1'
    server = startAsNpmStartDoes(folder, env)
    await untilServing(folder, Number(env.VOXGATE_PORT), server)
  })
  after(async () => {
    if (server) await stop(server)
    rmSync(folder, { recursive: true, force: true })
  })

  test('the quick start writes hello.wav, a WAV with speech in it', () => {
    const r = runBlocks(runnableBlocks(QUICK_START.file, QUICK_START.section), folder, env)
    assert.equal(r.status, 0, `the quick start failed:\n${r.stderr}`)
    const wav = readFileSync(path.join(folder, 'hello.wav'))
    assert.equal(wav.toString('ascii', 0, 4), 'RIFF')
    const info = parseWavHeader(wav)
    assert.deepEqual(
      { format: info.format, channels: info.channels, sampleRate: info.sampleRate, bits: info.bitsPerSample },
      { format: 1, channels: 1, sampleRate: 24000, bits: 16 },
    )
    const samples = wav.subarray(info.dataOffset)
    const seconds = samples.length / 2 / 24000
    assert.ok(seconds > 0.5 && seconds < 5, `"Hello from voxgate." lasts ${seconds} s`)
    assert.ok(rmsS16(samples) > 0.02, `the audio is silent (RMS ${rmsS16(samples)})`)
  })

  test('docs/speech-to-text.md transcribes it with the quick start token', {
    skip: existsSync(POCKETSPHINX_MODEL) ? false : `PocketSphinx is not installed (${POCKETSPHINX_MODEL})`,
  }, () => {
    const r = runBlocks(runnableBlocks(STT_TRY_IT.file, STT_TRY_IT.section), folder, env)
    assert.equal(r.status, 0, `the speech-to-text try-out failed:\n${r.stderr}`)
    // Two answers, one after the other: the transcript, then the token minted with limits.
    const transcript = /\{"type":"transcript","text":"([^"]*)"/.exec(r.stdout)
    assert.ok(transcript, r.stdout)
    assert.match(transcript[1]!, /hello/i)
    assert.match(r.stdout, /\{"token":"<token>"\}/)
  })

  test('docs/tokens-and-grants.md mints a token for one user, reads it back and revokes the user', () => {
    const r = runBlocks(runnableBlocks(TOKENS_TRY_IT.file, TOKENS_TRY_IT.section), folder, env)
    assert.equal(r.status, 0, `the tokens try-out failed:\n${r.stderr}`)
    assert.match(r.stdout, /"sub":"user-123"/)
    assert.match(r.stdout, /"limits":\{"characters":2000,"concurrent_streams":2\}/)
    assert.match(r.stdout, /\{"revoked":true\}$/)
  })

  test('docs/usage-quotas-metrics.md sets a quota and reads the ledger', () => {
    const r = runBlocks(runnableBlocks(QUOTAS_TRY_IT.file, QUOTAS_TRY_IT.section), folder, env)
    assert.equal(r.status, 0, `the quotas try-out failed:\n${r.stderr}`)
    assert.match(r.stdout, /^\{"id":"[^"]+","sub":"user-123","key_id":null,"period":"day","characters":20000,/)
    assert.match(r.stdout, /"totals":\{"characters":\d+,/)
  })
})

test('every shell block in README.md and docs/ is run by a test, or says why not', () => {
  const ranHere = (b: ShellBlock) => RUN_HERE.some((s) => s.file === b.file && s.section === b.section)
  const unaccounted = documentedPages()
    .flatMap(shellBlocks)
    .filter((b) => b.notRunReason === undefined && !ranHere(b))
    .map((b) => `${b.file}:${b.line} (under "${b.section}")`)
  assert.deepEqual(unaccounted, [], 'precede each with <!-- not run in tests: <reason> --> or run it in a test')
})

function assertInstalled(name: string) {
  const r = spawnSync('bash', ['-c', `command -v ${name}`])
  assert.equal(r.status, 0, `${name} is not installed: the quick start needs it (apt-get install ${name})`)
}

/** The environment of a newcomer's shell: no voxgate settings inherited from the test run. */
function quickStartEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('VOXGATE_')) delete env[name]
  return env
}

/** The fresh folder sees the repository's built packages and its `voxgate` bin, as a clone after `npm install` does. */
function linkRepository(folder: string) {
  symlinkSync(path.join(REPO_ROOT, 'packages'), path.join(folder, 'packages'))
  mkdirSync(path.join(folder, 'node_modules/.bin'), { recursive: true })
  symlinkSync(path.join(REPO_ROOT, 'packages/server/bin/voxgate.mjs'), path.join(folder, 'node_modules/.bin/voxgate'))
}

let serverErrors = ''

/** `npm start`'s own command from package.json (its `prestart` build has run: the test runner builds first). */
function startAsNpmStartDoes(folder: string, env: NodeJS.ProcessEnv): ChildProcess {
  const { scripts } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>
  }
  const child = spawn('bash', ['-c', scripts.start!], { cwd: folder, env, detached: true, stdio: 'pipe' })
  child.stdout!.resume()
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (serverErrors += text))
  return child
}

/** Waits until the server answers `GET /` over TLS verified by the development CA it created. */
async function untilServing(folder: string, port: number, child: ChildProcess) {
  const caFile = path.join(folder, '.voxgate/tls/dev-ca.pem')
  for (const deadline = Date.now() + START_WITHIN_MS; Date.now() < deadline; await sleep(200)) {
    if (child.exitCode !== null)
      throw new Error(`npm start's command exited with ${child.exitCode}: ${masked(serverErrors)}`)
    if (existsSync(caFile) && (await answers(port, readFileSync(caFile)))) return
  }
  throw new Error(`the server did not answer on port ${port} within ${START_WITHIN_MS} ms: ${masked(serverErrors)}`)
}

function answers(port: number, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', ca, timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/**
 * The blocks verbatim, in one bash that stops at the first failing command. Shell variables carry
 * over to the next run as they would in a reader's terminal: each run starts by reading the
 * variables the previous one set (`SESSION`), and ends by writing those it added.
 */
function runBlocks(blocks: ShellBlock[], folder: string, env: NodeJS.ProcessEnv) {
  const script = [
    `[ -f ${SESSION} ] && source ${SESSION}`,
    'voxgate_test_before=$(compgen -v)',
    ...blocks.map((b) => b.text),
    `for v in $(compgen -v); do grep -qx "$v" <<<"$voxgate_test_before" || declare -p "$v"; done >> ${SESSION}`,
  ].join('\n')
  const r = spawnSync('bash', ['-eo', 'pipefail', '-c', script], {
    cwd: folder,
    env,
    encoding: 'utf8',
    timeout: BLOCKS_WITHIN_MS,
  })
  // What the blocks print reaches the test's report only with its credentials masked.
  return { status: r.status, stdout: masked(r.stdout), stderr: masked(r.stderr) }
}

/** Tokens (JWTs) and API keys replaced by placeholders, so no credential is ever logged. */
const masked = (text: string): string =>
  text.replace(/eyJ[\w-]*\.[\w-]+\.[\w-]+/g, '<token>').replace(/sk_vx_[\w-]+/g, '<api key>')

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  process.kill(-child.pid!, 'SIGTERM')
  const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])
  if (!done) process.kill(-child.pid!, 'SIGKILL')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}
