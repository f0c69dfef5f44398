import { api } from '../api.ts'
import { stackedChart } from '../chart.ts'
import { empty, fill, h, loading, table } from '../dom.ts'
import { attempt } from '../errors.ts'
import { count, duration, utcDate } from '../format.ts'
import { seriesOf, usageReport, type Measure, type UsageReport } from '../usage-data.ts'

const MEASURES: Record<Measure, string> = {
  characters: 'Characters',
  audio_seconds_produced: 'Audio spoken',
  audio_seconds_transcribed: 'Audio heard',
}

/** Usage per day as a stacked chart (by key, or by the top 10 subs and "others"), its table, and CSV. */
export function usage(section: HTMLElement): () => void {
  const from = h('input', { type: 'date', id: 'usage-from', value: utcDate(29) })
  const to = h('input', { type: 'date', id: 'usage-to', value: utcDate() })
  const group = h(
    'select',
    { id: 'usage-group' },
    h('option', { value: 'key' }, 'API key'),
    h('option', { value: 'sub' }, 'End-user (top 10)'),
  )
  const measure = h(
    'select',
    { id: 'usage-measure' },
    Object.entries(MEASURES).map(([value, text]) => h('option', { value }, text)),
  )
  const csv = h('button', { type: 'button', disabled: true }, 'Download CSV')
  const controls = h(
    'form',
    { class: 'controls' },
    h('span', { class: 'field' }, h('label', { for: 'usage-from' }, 'From'), from),
    h('span', { class: 'field' }, h('label', { for: 'usage-to' }, 'To'), to),
    h('span', { class: 'field' }, h('label', { for: 'usage-group' }, 'Group by'), group),
    h('span', { class: 'field' }, h('label', { for: 'usage-measure' }, 'Show'), measure),
    h('button', { type: 'submit' }, 'Apply'),
    csv,
  )
  const out = h('div', { class: 'card' }, loading('usage'))
  section.append(controls, out)
  let stopChart: (() => void) | undefined
  let report: UsageReport | undefined

  const load = () =>
    attempt(out, async () => {
      fill(out, loading('usage'))
      const [answer, keys] = await Promise.all([
        usageReport(from.value, to.value, `day,${group.value}`),
        api<{ data: { id: string; name: string }[] }>('GET', '/api-keys?status=all'),
      ])
      report = answer
      const names = new Map(keys.data.map((k) => [k.id, k.name]))
      const keyName = (id: string) => (names.has(id) ? `${names.get(id)} (${id})` : id)
      stopChart?.()
      const m = measure.value as Measure
      const by = group.value === 'sub' ? 'sub' : 'key_id'
      const { days, series } = seriesOf(report, m, by)
      if (by === 'key_id') for (const s of series) s.label = keyName(s.label)
      if (report.data.length === 0) {
        csv.disabled = true
        fill(out, empty('No usage in this range.'))
        return
      }
      const chart = stackedChart(days, series, m === 'characters' ? 'characters' : 'seconds')
      stopChart = chart.stop
      csv.disabled = false
      fill(
        out,
        h('p', { class: 'muted' }, `${MEASURES[m]} per day, stacked by ${by === 'sub' ? 'end-user' : 'API key'}`),
        chart.el,
        table(
          `Usage from ${report.from} to ${report.to}`,
          ['Day', by === 'sub' ? 'Sub' : 'Key', 'Characters', 'Audio spoken', 'Audio heard', 'Streams'],
          report.data.map((r) => [
            r.day ?? '',
            (by === 'sub' ? r.sub : r.key_id && keyName(r.key_id)) ?? '—',
            count(r.characters),
            duration(r.audio_seconds_produced),
            duration(r.audio_seconds_transcribed),
            count(r.streams),
          ]),
          [2, 3, 4, 5],
        ),
        h(
          'p',
          { class: 'muted' },
          `Total: ${count(report.totals.characters)} characters, ${duration(report.totals.audio_seconds_produced)} spoken, ${duration(report.totals.audio_seconds_transcribed)} heard.`,
        ),
      )
    })

  controls.addEventListener('submit', (event) => {
    event.preventDefault()
    void load()
  })
  csv.addEventListener('click', () => {
    if (!report) return
    const lines = [
      'day,key_id,sub,characters,audio_seconds_produced,audio_seconds_transcribed,streams',
      ...report.data.map((r) =>
        [
          r.day,
          r.key_id ?? '',
          r.sub ?? '',
          r.characters,
          r.audio_seconds_produced,
          r.audio_seconds_transcribed,
          r.streams,
        ]
          .map((v) => csvCell(String(v ?? '')))
          .join(','),
      ),
    ]
    const url = URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' }))
    const a = h('a', { href: url, download: `voxgate-usage-${report.from}-${report.to}.csv` })
    a.click()
    setTimeout(() => URL.revokeObjectURL(url), 1000)
  })
  void load()
  return () => stopChart?.()
}

/** A CSV cell, quoted when needed; a leading = + - @ is defused (spreadsheet formula injection). */
function csvCell(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value
  return /[",\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe
}
