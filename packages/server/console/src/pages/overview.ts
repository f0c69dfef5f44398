import { api, routeExists } from '../api.ts'
import { stackedChart } from '../chart.ts'
import { empty, fill, h, loading, table } from '../dom.ts'
import { confirmDialog } from '../dialog.ts'
import { attempt, errorBox } from '../errors.ts'
import { count, duration, utcDate, when } from '../format.ts'
import { daysBetween, seriesOf, usageReport } from '../usage-data.ts'
import type { Session } from './index.ts'

interface OpenStreams {
  scope: 'cluster' | 'instance'
  instances: number
  total: number
  by_transport: Record<string, number>
  streams: { transport: string; key_id: string; sub: string | null; count: number }[]
}

const TRANSPORT_NAMES: Record<string, string> = {
  bytes: 'Bytes',
  sse: 'SSE',
  websocket: 'WebSocket',
  stt: 'Speech to text',
}

/** Open streams (live, server-sent events), today's usage, 30 days as a chart, the last changes, health. */
export function overview(section: HTMLElement, session: Session): () => void {
  const live = h('section', { class: 'card', 'aria-labelledby': 'open-streams-title' })
  const today = h(
    'section',
    { class: 'card', 'aria-labelledby': 'today-title' },
    h('h2', { id: 'today-title' }, 'Today'),
    loading('today'),
  )
  const month = h(
    'section',
    { class: 'card wide', 'aria-labelledby': 'month-title' },
    h('h2', { id: 'month-title' }, 'Last 30 days'),
    loading('usage'),
  )
  const changes = h(
    'section',
    { class: 'card', 'aria-labelledby': 'changes-title' },
    h('h2', { id: 'changes-title' }, 'Last changes'),
    loading('the audit log'),
  )
  const health = h(
    'section',
    { class: 'card', 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title' }, 'Health'),
    loading('health'),
  )
  section.append(h('div', { class: 'grid' }, live, today, health, changes, month))
  const stops: (() => void)[] = []

  // Open streams: the live feed; the figure is announced politely as it changes.
  const figure = h('p', { class: 'big', id: 'open-streams', 'aria-live': 'polite' }, '…')
  const scope = h('p', { class: 'muted', id: 'open-streams-scope' })
  const transports = h('ul', { class: 'inline-list' })
  const streamsTable = h('div')
  const liveError = h('div')
  fill(live, h('h2', { id: 'open-streams-title' }, 'Open streams'), figure, scope, transports, streamsTable, liveError)
  const events = new EventSource('/console/api/events')
  events.addEventListener('open_streams', (event) => {
    const view = JSON.parse((event as MessageEvent<string>).data) as OpenStreams
    fill(liveError)
    figure.textContent = count(view.total)
    scope.textContent =
      view.scope === 'cluster'
        ? `Cluster-wide: ${view.instances} instance${view.instances === 1 ? '' : 's'}`
        : 'This instance only (no Redis: other instances are not counted)'
    fill(
      transports,
      Object.entries(view.by_transport).map(([t, n]) => h('li', {}, `${TRANSPORT_NAMES[t] ?? t}: ${count(n)}`)),
    )
    fill(
      streamsTable,
      view.streams.length === 0
        ? empty('No stream is open.')
        : table(
            'Open streams by end-user',
            ['Sub', 'Key', 'Transport', 'Streams', ...(session.scope === 'admin' ? ['Action'] : [])],
            view.streams.map((s) => [
              s.sub ?? '—',
              h('code', {}, s.key_id),
              TRANSPORT_NAMES[s.transport] ?? s.transport,
              count(s.count),
              session.scope === 'admin' && s.sub !== null && s.sub !== 'others'
                ? h(
                    'button',
                    { type: 'button', class: 'danger small', onclick: () => void revokeSub(s.sub!) },
                    `Revoke ${s.sub}`,
                  )
                : null,
            ]),
            [3],
          ),
    )
  })
  events.addEventListener('signed_out', () => window.dispatchEvent(new CustomEvent('signed-out')))
  events.onerror = () => fill(liveError, h('p', { class: 'muted' }, 'Live updates interrupted; reconnecting…'))
  stops.push(() => events.close())

  const revokeSub = async (sub: string) => {
    const sure = await confirmDialog(
      `Revoke “${sub}”`,
      `Every token of “${sub}” issued until now stops working, and their open streams end at once.`,
      `Revoke ${sub}`,
    )
    if (!sure) return
    await attempt(liveError, async () => {
      // `sub` alone: every token issued until now by the server's clock, this second included.
      await api('POST', '/access-token/revoke', { sub })
    })
  }

  void attempt(today, async () => {
    const report = await usageReport(utcDate(), utcDate(), 'day')
    fill(
      today,
      h('h2', { id: 'today-title' }, 'Today'),
      h(
        'dl',
        { class: 'figures' },
        h('dt', {}, 'Characters'),
        h('dd', {}, count(report.totals.characters)),
        h('dt', {}, 'Audio spoken'),
        h('dd', {}, duration(report.totals.audio_seconds_produced)),
        h('dt', {}, 'Audio heard'),
        h('dd', {}, duration(report.totals.audio_seconds_transcribed)),
        h('dt', {}, 'Streams'),
        h('dd', {}, count(report.totals.streams)),
      ),
    )
  }).catch(() => undefined)

  void attempt(month, async () => {
    const from = utcDate(29)
    const to = utcDate()
    const report = await usageReport(from, to, 'day')
    const { days, series } = seriesOf(report, 'characters', null)
    const chart = stackedChart(
      days,
      series.length ? series : [{ label: 'all', values: days.map(() => 0) }],
      'characters',
    )
    stops.push(chart.stop)
    const byDay = new Map(report.data.map((r) => [r.day, r]))
    fill(
      month,
      h('h2', { id: 'month-title' }, 'Last 30 days'),
      h('p', { class: 'muted' }, 'Characters per day'),
      chart.el,
      h(
        'details',
        {},
        h('summary', {}, 'The same as a table'),
        table(
          'Usage per day, last 30 days',
          ['Day', 'Characters', 'Audio spoken', 'Streams'],
          daysBetween(from, to).map((d) => {
            const r = byDay.get(d)
            return [d, count(r?.characters ?? 0), duration(r?.audio_seconds_produced ?? 0), count(r?.streams ?? 0)]
          }),
          [1, 2, 3],
        ),
      ),
    )
  })

  void (async () => {
    if (!(await routeExists('/audit?limit=1'))) {
      fill(
        changes,
        h('h2', { id: 'changes-title' }, 'Last changes'),
        h('p', { class: 'empty' }, 'The audit log is not available on this server.'),
      )
      return
    }
    try {
      const page = await api<{ data: { at: string; action: string; target: { id: string } }[] }>(
        'GET',
        '/audit?limit=5',
      )
      fill(
        changes,
        h('h2', { id: 'changes-title' }, 'Last changes'),
        page.data.length === 0
          ? empty('Nothing has changed yet.')
          : h(
              'ul',
              { class: 'plain' },
              page.data.map((e) => h('li', {}, h('code', {}, e.action), ` ${e.target.id} · ${when(e.at)}`)),
            ),
      )
    } catch (err) {
      fill(changes, h('h2', { id: 'changes-title' }, 'Last changes'), errorBox(err))
    }
  })()

  void (async () => {
    // /readyz answers 503 with its checks when not ready: both are an answer here.
    const res = await fetch('/readyz').catch(() => undefined)
    const body =
      res &&
      ((await res.json().catch(() => undefined)) as { ready: boolean; checks: Record<string, unknown> } | undefined)
    fill(
      health,
      h('h2', { id: 'health-title' }, 'Health'),
      body
        ? h(
            'dl',
            { class: 'figures' },
            h('dt', {}, 'Ready'),
            h('dd', { class: body.ready ? 'ok' : 'bad' }, body.ready ? 'Yes' : 'No'),
            Object.entries(body.checks).flatMap(([name, value]) => [
              h('dt', {}, name[0]!.toUpperCase() + name.slice(1)),
              h('dd', {}, typeof value === 'boolean' ? (value ? 'Yes' : 'No') : String(value).replaceAll('_', ' ')),
            ]),
          )
        : h('p', { class: 'error', role: 'alert' }, 'The server did not answer /readyz.'),
    )
  })()

  return () => {
    for (const stop of stops) stop()
  }
}
