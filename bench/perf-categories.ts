/**
 * Reads a `perf record -g` file of the server's thread (bench/perf-mint.ts) and puts each sample in
 * one category: the first ANYWHERE category any frame of its stack matches, else the category of its
 * innermost frame that names one (so a JSON parse run from inside a parser callback counts as the
 * parse). Also inclusive figures for single frames. Figures are µs of the thread's CPU a request.
 */
import { execFileSync } from 'node:child_process'

type Category = [name: string, frame: RegExp]

/** A sample whose stack holds any of these frames counts here (first match in this order). */
const ANYWHERE: Category[] = [
  ['GC (scavenge, mark-compact)', /v8::internal::Heap::|Scavenge|MinorGC|MarkCompact|ConcurrentMarking/],
  // The signing itself (on this thread before the signature moved to the thread pool); not the
  // completion callback, under which the answer is written.
  ['Ed25519 signature (node:crypto, OpenSSL)', /SignTraits::DeriveBits|ossl_ed25519|EVP_DigestSign/],
  ['kernel: TCP send (the write system call)', /tcp_sendmsg|sock_write_iter|__x64_sys_write/],
  ['kernel: TCP receive (the read system call)', /tcp_recvmsg|sock_read_iter|__x64_sys_read$/],
  ['kernel: context switch', /^\[k\] (finish_task_switch|__schedule)/],
  ['kernel: the rest (epoll, fcntl, faults, interrupts)', /^\[k\]/],
  ['TLS encryption (SSL_write)', /SSL_write/],
]

/** Otherwise the innermost frame that matches one of these decides (first match in this order). */
const INNERMOST: Category[] = [
  [
    'Ed25519 signature: its job (set-up, hand-off, completion)',
    /signOneShot|DeriveBitsJob<node::crypto::SignTraits>|CryptoJob<node::crypto::SignTraits>/,
  ],
  ['TLS decryption (SSL_read)', /SSL_read/],
  ['SQLite (the change counter, a key row)', /sqlite3|better_sqlite3|store\/sqlite/],
  ['JSON body: read and parse', /JsonParser|secure-json-parse|content-type-parser/],
  ['body: schema validation (zod)', /\/zod\//],
  ['request log (pino, redaction)', /\/pino\/|pinojs/],
  ['token claims and encoding', /auth\/sign\.ts|auth\/tokens\.ts|src\/ids\.ts|node:buffer/],
  ['API key check, guard, body-rate guard', /auth\/|http\/guard|http\/authenticate|http\/slow-body|crypto\/hash/],
  ['mint route, policy, metrics', /routes\/access-token|prom-client/],
  [
    'response: serialise, headers, write',
    /_http_outgoing|Socket\._writev|writevGeneric|stream_base_commons|reply\.js|Writev|writable/,
  ],
  ['HTTP: parse, request, streams', /llhttp|Parser::|parserOn|_http_|streams\/readable|node:net/],
  ['Fastify (hooks, routing, handlers)', /fastify\/|find-my-way/],
]
const OTHER = 'other (V8 runtime, libuv, no naming frame)'
export const CATEGORY_NAMES = [...ANYWHERE, ...INNERMOST].map(([name]) => name).concat(OTHER)

/** Inclusive: every sample with this frame anywhere in its stack. */
export const FRAMES: Category[] = [
  ['StreamBase::Writev (native write of an answer)', /StreamBase::Writev/],
  ['TLSWrap::EncOut (TLS record + write syscall)', /TLSWrap::EncOut/],
  ['EVP_DigestSignInit (OpenSSL 3 context set-up)', /EVP_DigestSignInit/],
  ['ossl_ed25519_sign (the curve arithmetic)', /ossl_ed25519_sign/],
  ['Heap::CollectGarbage', /Heap::CollectGarbage/],
]

/** The stacks of `file`, innermost frame first; kernel frames are marked `[k] `. */
function stacks(file: string): string[][] {
  const out = execFileSync('perf', ['script', '-i', file, '-F', 'ip,sym,dso'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  return out
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => {
          const sym = line.slice(line.indexOf(' ') + 1)
          const frame = sym.replace(/ \([^()]*\)$/, '')
          return sym.endsWith('([kernel.kallsyms])') ? `[k] ${frame}` : frame
        }),
    )
    .filter((s) => s.length > 0)
}

function categoryOf(stack: string[]): string {
  for (const [name, rx] of ANYWHERE) if (stack.some((f) => rx.test(f))) return name
  for (const frame of stack) for (const [name, rx] of INNERMOST) if (rx.test(frame)) return name
  return OTHER
}

export interface Breakdown {
  /** µs of the thread's CPU a request, by category and by inclusive frame. */
  categories: Map<string, number>
  frames: Map<string, number>
  total: number
}

export function breakdown(file: string, requests: number, periodNs: number): Breakdown {
  const us = periodNs / 1000 / requests
  const categories = new Map(CATEGORY_NAMES.map((n) => [n, 0]))
  const frames = new Map(FRAMES.map(([n]) => [n, 0]))
  const all = stacks(file)
  for (const stack of all) {
    const c = categoryOf(stack)
    categories.set(c, categories.get(c)! + us)
    for (const [name, rx] of FRAMES) if (stack.some((f) => rx.test(f))) frames.set(name, frames.get(name)! + us)
  }
  return { categories, frames, total: all.length * us }
}

/** A Markdown table of several phases' breakdowns side by side. */
export function table(phases: [string, Breakdown][]): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`
  const lines = [
    row(['µs of the server thread a request', ...phases.map(([n]) => n)]),
    row(['---', ...phases.map(() => '---:')]),
  ]
  const num = (x: number) => x.toFixed(1)
  for (const name of CATEGORY_NAMES) lines.push(row([name, ...phases.map(([, b]) => num(b.categories.get(name)!))]))
  lines.push(row(['**total**', ...phases.map(([, b]) => `**${num(b.total)}**`)]))
  for (const [name] of FRAMES)
    lines.push(row([`(inclusive) ${name}`, ...phases.map(([, b]) => num(b.frames.get(name)!))]))
  return lines.join('\n')
}
