const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })
const whole = new Intl.NumberFormat('en')

/** 1234567 → "1.2M"; small numbers as they are, with separators. */
export function count(n: number): string {
  return Math.abs(n) < 10_000 ? whole.format(n) : compact.format(n)
}

/** 11520 → "3 h 12 min"; 42.5 → "42.5 s". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`
  return `${Math.round(hours / 24)} d`
}

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })

/** An ISO time as people read it (UTC, said so); null → "—". */
export function when(iso: string | null | undefined, none = '—'): string {
  return iso ? `${dateTime.format(new Date(iso))} UTC` : none
}

/** Today, UTC, YYYY-MM-DD, minus `daysBack`. */
export function utcDate(daysBack = 0): string {
  return new Date(Date.now() - daysBack * 86_400_000).toISOString().slice(0, 10)
}
