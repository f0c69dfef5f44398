/**
 * Where a WebAssembly module's read-only data ends in its memory: the end of the active data segment
 * its name section calls `.rodata` (wasm-ld names its segments so). A program never writes there (C
 * `const` objects), so putting its memory back as instantiated need not copy those bytes again
 * (engine-flite.ts: 17 of flite's 17.7 MB). 0, all memory to copy, when the module does not say.
 */
export function rodataEnd(wasm: Uint8Array): number {
  const sections = readSections(wasm)
  const names = sections.find((s) => s.id === 0 && s.name === 'name')
  const data = sections.find((s) => s.id === 11)
  if (!names || !data) return 0
  const index = segmentNames(wasm, names.body).get('.rodata')
  const segment = index === undefined ? undefined : activeSegments(wasm, data.body)[index]
  return segment ? segment.offset + segment.size : 0
}

interface Section {
  id: number
  /** A custom section's name. */
  name?: string
  body: { at: number; end: number }
}

/**
 * An unsigned LEB128 at `at`: its value and where the next field starts. (An `i32.const` offset is a
 * signed one, which reads the same while it is positive, as a data segment's is.)
 */
function leb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0
  let shift = 0
  for (;;) {
    const byte = bytes[at++]
    if (byte === undefined) throw new Error('truncated WebAssembly module')
    value += (byte & 0x7f) * 2 ** shift
    shift += 7
    if (byte < 0x80) return [value, at]
  }
}

const utf8 = (bytes: Uint8Array, at: number, length: number) =>
  new TextDecoder().decode(bytes.subarray(at, at + length))

function readSections(wasm: Uint8Array): Section[] {
  const sections: Section[] = []
  for (let at = 8; at < wasm.length; ) {
    const id = wasm[at] ?? 0
    const [size, body] = leb(wasm, at + 1)
    const end = body + size
    if (id === 0) {
      const [length, name] = leb(wasm, body)
      sections.push({ id, name: utf8(wasm, name, length), body: { at: name + length, end } })
    } else sections.push({ id, body: { at: body, end } })
    at = end
  }
  return sections
}

/** The name section's data-segment names (subsection 9): name → segment index. */
function segmentNames(wasm: Uint8Array, body: Section['body']): Map<string, number> {
  const names = new Map<string, number>()
  for (let at = body.at; at < body.end; ) {
    const kind = wasm[at] ?? 0
    const [size, start] = leb(wasm, at + 1)
    if (kind === 9) {
      let [count, p] = leb(wasm, start)
      for (; count > 0; count--) {
        const [index, q] = leb(wasm, p)
        const [length, name] = leb(wasm, q)
        names.set(utf8(wasm, name, length), index)
        p = name + length
      }
    }
    at = start + size
  }
  return names
}

/** Each data segment's place in memory 0, for the form wasm-ld writes (active, `i32.const` offset). */
function activeSegments(wasm: Uint8Array, body: Section['body']): ({ offset: number; size: number } | undefined)[] {
  const segments: ({ offset: number; size: number } | undefined)[] = []
  let [count, at] = leb(wasm, body.at)
  for (; count > 0; count--) {
    const [flags, p] = leb(wasm, at)
    let size: number
    let start: number
    if (flags === 0 && wasm[p] === 0x41 && wasm[leb(wasm, p + 1)[1]] === 0x0b) {
      const [offset, q] = leb(wasm, p + 1)
      ;[size, start] = leb(wasm, q + 1)
      segments.push({ offset, size })
    } else {
      // Any other form (passive, another memory, a computed offset): its place is not known here.
      if (flags !== 1) return segments
      ;[size, start] = leb(wasm, p)
      segments.push(undefined)
    }
    at = start + size
  }
  return segments
}
