import { readFileSync } from 'node:fs'

/**
 * CPU time the calling thread has run, in milliseconds (Linux: /proc/thread-self/schedstat, whose first
 * field is nanoseconds on a CPU). Unlike wall-clock time it does not grow while other processes on a
 * shared machine hold the cores, so per-request costs measured with it compare across runs.
 */
export function threadCpuMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6
}
