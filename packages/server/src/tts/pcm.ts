/** Joins Int16 PCM parts into one array (the single part itself when there is only one). */
export function concatPcm(parts: Int16Array[]): Int16Array {
  if (parts.length === 1 && parts[0]) return parts[0]
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
