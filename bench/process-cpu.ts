import { readdirSync, readFileSync } from 'node:fs'

/**
 * CPU time each thread of this process has run, in ms, by thread id (Linux: /proc/self/task/<tid>/schedstat).
 * Two snapshots give the CPU of the threads that lived through both: the event loop, the thread pool,
 * V8's helpers, and a load generator's thread kept from an earlier run (in-worker.ts), whose own
 * CPU a caller takes out.
 */
export function threadCpuSnapshot(): Map<string, number> {
  const cpu = new Map<string, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      cpu.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6)
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return cpu
}

/** ms of CPU between two snapshots, over the threads in both. */
export function cpuOfLastingThreads(before: Map<string, number>, after: Map<string, number>): number {
  let ms = 0
  for (const [tid, end] of after) {
    const start = before.get(tid)
    if (start !== undefined) ms += end - start
  }
  return ms
}
