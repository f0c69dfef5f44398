/** Enough of the text before a part's value to hold its headers (name, type), kept across chunks. */
const TAIL_CHARS = 512

/** A text part: its name, its headers, a blank line, then a one-line value. */
const FIELD = /name="([^"\r\n]{1,64})"\r\n(?:[^\r\n]{0,200}\r\n)*?\r\n([^\r\n]{0,64})\r\n/g

/**
 * Picks a few small text fields out of a multipart upload as it streams past, without parsing or
 * holding it: the relay forwards the body unread, but the ledger wants to know what the answer's
 * audio format is (`output_format[encoding]`, ...). Only the names asked for are kept, first value
 * wins; a field whose value is longer than a line of 64 characters is not seen.
 */
export class MultipartFieldWatcher {
  readonly found: Record<string, string> = {}
  #tail = ''

  constructor(private readonly names: readonly string[]) {}

  push(chunk: Buffer): void {
    const text = this.#tail + chunk.toString('latin1')
    for (const m of text.matchAll(FIELD)) {
      if (this.names.includes(m[1]!) && this.found[m[1]!] === undefined) this.found[m[1]!] = m[2]!
    }
    this.#tail = text.slice(-TAIL_CHARS)
  }
}
