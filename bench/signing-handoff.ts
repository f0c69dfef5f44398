/**
 * What handing a signature off the event loop costs the loop's own thread: libuv's thread pool
 * (`crypto.sign`'s callback form, one work item a signature), the signing thread (auth/signing-thread.ts,
 * one message a turn for every signature asked for in it) and signing on the thread itself, each with
 * 1, 4 and 16 signatures outstanding (a closed loop that yields a turn between them, as requests do).
 * Medians of 5 rounds of 4 000 signatures, µs of this thread's CPU a signature. Run:
 *
 *   node --import tsx bench/signing-handoff.ts
 */
import { generateKeyPairSync, sign } from 'node:crypto'
import { SigningThread } from '../packages/server/src/auth/signing-thread.ts'
import { threadCpuMs } from './thread-cpu.ts'
const { privateKey } = generateKeyPairSync('ed25519')
const input = 'x'.repeat(400)
const pool = (s: string) =>
  new Promise<string>((res, rej) =>
    sign(null, Buffer.from(s), privateKey, (e, sig) => (e ? rej(e) : res(sig.toString('base64url')))),
  )
const thread = new SigningThread()
const viaThread = (s: string) => thread.sign(privateKey, s)
const sync = async (s: string) => sign(null, Buffer.from(s), privateKey).toString('base64url')
const ways = { pool, thread: viaThread, sync }
for (const conc of [1, 4, 16]) {
  const cpuUs: Record<string, number[]> = { pool: [], thread: [], sync: [] }
  const processUs: Record<string, number[]> = { pool: [], thread: [], sync: [] }
  const wallUs: Record<string, number[]> = { pool: [], thread: [], sync: [] }
  for (let round = 0; round < 6; round++) {
    for (const [name, f] of Object.entries(ways)) {
      const n = 4000
      const p0 = process.cpuUsage()
      const c0 = threadCpuMs()
      const w0 = performance.now()
      // closed loop with `conc` outstanding
      let started = 0
      await Promise.all(
        Array.from({ length: conc }, async () => {
          while (started++ < n) {
            await f(input)
            await new Promise(setImmediate)
          }
        }),
      )
      const cpu = ((threadCpuMs() - c0) * 1000) / n
      const { user, system } = process.cpuUsage(p0)
      const all = (user + system) / n,
        wall = ((performance.now() - w0) * 1000) / n
      if (round > 0) {
        cpuUs[name]!.push(cpu)
        processUs[name]!.push(all)
      }
      if (round > 0) wallUs[name]!.push(wall)
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!.toFixed(1)
  for (const k of Object.keys(cpuUs))
    console.log(
      `${conc} outstanding, ${k.padEnd(6)}: this thread ${med(cpuUs[k]!)} µs, the process ${med(processUs[k]!)} µs, wall ${med(wallUs[k]!)} µs a signature`,
    )
}
process.exit(0)
