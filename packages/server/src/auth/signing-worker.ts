/**
 * The token signer's thread (signing-thread.ts): signs each batch it is sent, in order, with the keys
 * the batch carries, and answers the batch with one message. It keeps nothing between batches.
 */
import { sign, type KeyObject } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import type { SignBatch, SignResult } from './signing-thread.ts'

function signOne(key: KeyObject | undefined, input: string): SignResult {
  try {
    if (key === undefined) throw new Error('a signature named a key its batch did not carry')
    return sign(null, Buffer.from(input), key).toString('base64url')
  } catch (err) {
    const { message, code } = err as { message?: unknown; code?: unknown }
    return { error: String(message), ...(typeof code === 'string' && { code }) }
  }
}

parentPort?.on('message', ({ keys, items }: SignBatch) => {
  parentPort?.postMessage(items.map(([i, input]) => signOne(keys[i], input)))
})
