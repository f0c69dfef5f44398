/**
 * The token signer's thread (signing-thread.ts): signs each batch it is sent, in order, and answers
 * the batch with one message. Keys arrive once, by number, with the first batch that uses them.
 */
import { sign, type KeyObject } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import type { SignBatch, SignResult } from './signing-thread.ts'

const keys = new Map<number, KeyObject>()

function signOne(keyNumber: number, input: string): SignResult {
  try {
    const key = keys.get(keyNumber)
    if (key === undefined) throw new Error(`signing key ${keyNumber} was never sent to the signing thread`)
    return sign(null, Buffer.from(input), key).toString('base64url')
  } catch (err) {
    const { message, code } = err as { message?: unknown; code?: unknown }
    return { error: String(message), ...(typeof code === 'string' && { code }) }
  }
}

parentPort?.on('message', (batch: SignBatch) => {
  if (batch.forgetKeys) keys.clear()
  for (const [keyNumber, key] of batch.newKeys) keys.set(keyNumber, key)
  parentPort?.postMessage(batch.items.map(([keyNumber, input]) => signOne(keyNumber, input)))
})
