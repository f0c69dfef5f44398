// @ts-expect-error parse-prometheus-text-format ships no types; its output is described below.
import parsePrometheusTextFormat from 'parse-prometheus-text-format'

/** One metric family as the parser gives it (prom2json's shape). */
export interface Family {
  name: string
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
  metrics: { labels?: Record<string, string>; value?: string }[]
}

/** A scrape, parsed by a Prometheus text-format parser (not a regex), with lookups by name and labels. */
export class Scrape {
  readonly families: Map<string, Family>
  /**
   * The same scrape with every histogram's series as plain series (`x_count{transport="bytes"}`): the
   * parser folds a labelled histogram's series into one, dropping the labels of `_count` and `_sum`.
   * Without their `# HELP`/`# TYPE` lines it reads each of them as a series of its own.
   */
  readonly #histogramSeries: Map<string, Family>
  constructor(readonly text: string) {
    this.families = families(text)
    const histograms = [...this.families.values()].filter((f) => f.type === 'HISTOGRAM').map((f) => f.name)
    const metadata = new Set(histograms.flatMap((n) => [`# TYPE ${n}`, `# HELP ${n}`]))
    this.#histogramSeries = families(
      text
        .split('\n')
        .filter((line) => !metadata.has(line.split(' ').slice(0, 3).join(' ')))
        .join('\n'),
    )
  }

  /** A counter's or gauge's value for exactly these labels (0 when the series does not exist yet). */
  value(name: string, labels: Record<string, string> = {}): number {
    const m = this.#series(name, labels)
    return m ? Number(m.value) : 0
  }

  /** A histogram's observation count for exactly these labels. */
  count(name: string, labels: Record<string, string> = {}): number {
    if (this.families.get(name)?.type !== 'HISTOGRAM') throw new Error(`${name} is not a histogram`)
    // A labelled histogram without observations has no series at all.
    if (!this.#histogramSeries.has(`${name}_count`)) return 0
    const m = this.#series(`${name}_count`, labels, this.#histogramSeries)
    return m ? Number(m.value) : 0
  }

  /** Every label value of every series. */
  labelValues(): string[] {
    return [...this.families.values()].flatMap((f) => f.metrics.flatMap((m) => Object.values(m.labels ?? {})))
  }

  #series(name: string, labels: Record<string, string>, from = this.families) {
    const family = from.get(name)
    if (!family) throw new Error(`no metric ${name} in the scrape`)
    const want = Object.entries(labels)
    return family.metrics.find((m) => {
      const have = m.labels ?? {}
      return Object.keys(have).length === want.length && want.every(([k, v]) => have[k] === v)
    })
  }
}

/** Families by name; a name met again (series of one histogram, label set after label set) is merged. */
function families(text: string): Map<string, Family> {
  const out = new Map<string, Family>()
  for (const f of parsePrometheusTextFormat(text) as Family[]) {
    const seen = out.get(f.name)
    if (seen) seen.metrics.push(...f.metrics)
    else out.set(f.name, f)
  }
  return out
}

export async function scrape(metricsUrl: string): Promise<Scrape> {
  const res = await fetch(metricsUrl)
  if (res.status !== 200) throw new Error(`scrape: ${res.status}`)
  return new Scrape(await res.text())
}
