import { VoxgateError } from '@voxgate/protocol'

/** One open container of the JSON text being scanned: an object's keys so far, or an array. */
type Frame = { keys: Set<string>; expectKey: boolean } | undefined

/**
 * The first key that appears twice in one object of `text`, or undefined. `text` must be JSON that
 * `JSON.parse` accepted: the scan then needs no grammar, only where strings start and end. Keys are
 * compared decoded (`"voice"` and `"vo\u0069ce"` are one key), as a JSON reader compares them.
 * `JSON.parse` keeps the last of two equal keys and another reader may keep the first, and a
 * reviver never sees the one dropped, hence this scan. Linear in the text, with no recursion: the
 * message size limit bounds it.
 */
export function duplicateKeyOf(text: string): string | undefined {
  const stack: Frame[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    const top = stack[stack.length - 1]
    if (c === '"') {
      const end = stringEnd(text, i)
      if (top?.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (top.keys.has(key)) return key
        top.keys.add(key)
        top.expectKey = false
      }
      i = end
    } else if (c === '{') stack.push({ keys: new Set(), expectKey: true })
    else if (c === '[') stack.push(undefined)
    else if (c === '}' || c === ']') stack.pop()
    else if (c === ',' && top) top.expectKey = true
  }
  return undefined
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return text.length
}

/** Refuses a message whose meaning depends on which of two equal keys its reader keeps. */
export function checkNoDuplicateKeys(text: string): void {
  const key = duplicateKeyOf(text)
  if (key !== undefined)
    throw new VoxgateError(
      'invalid_request',
      `The message has the key ${JSON.stringify(key.slice(0, 64))} twice in one object: send each key once.`,
    )
}
