import { api } from '../api.ts'
import { confirmDialog } from '../dialog.ts'
import { empty, fill, h, loading, table } from '../dom.ts'
import { attempt } from '../errors.ts'
import { count, duration, when } from '../format.ts'
import type { Session } from './index.ts'

interface Quota {
  id: string
  sub: string | null
  key_id: string | null
  period: 'day' | 'month'
  characters: number | null
  audio_seconds: number | null
  period_ends: string
  used: { characters: number | null; audio_seconds: number | null }
}

/** One cap as a bar: used / limit in this period. */
function bar(label: string, used: number | null, limit: number | null, fmt: (n: number) => string): HTMLElement | null {
  if (limit === null) return null
  const value = used ?? 0
  return h(
    'div',
    { class: 'bar' },
    h('progress', {
      max: Math.max(limit, 1),
      value: Math.min(value, Math.max(limit, 1)),
      'aria-label': `${label} used`,
    }),
    h('span', {}, `${fmt(value)} / ${fmt(limit)} ${label}`),
  )
}

/** Quotas: list with bars, set (create or change), remove. */
export function quotas(section: HTMLElement, session: Session): undefined {
  const admin = session.scope === 'admin'
  const status = h('div')
  const list = h('div', { class: 'card' }, loading('quotas'))
  const sub = h('input', { id: 'quota-sub', autocomplete: 'off', placeholder: 'any' })
  const keyId = h('input', { id: 'quota-key', autocomplete: 'off', placeholder: 'any' })
  const period = h(
    'select',
    { id: 'quota-period' },
    h('option', { value: 'month' }, 'Month'),
    h('option', { value: 'day' }, 'Day'),
  )
  const characters = h('input', { id: 'quota-characters', type: 'number', min: 0, inputmode: 'numeric' })
  const audio = h('input', { id: 'quota-audio', type: 'number', min: 0, inputmode: 'numeric' })
  const form = admin
    ? h(
        'form',
        { class: 'card stack', 'aria-labelledby': 'quota-form-title' },
        h('h2', { id: 'quota-form-title' }, 'Set a quota'),
        h('p', { class: 'muted' }, 'Setting the quota of an existing sub, key and period changes its caps.'),
        h('label', { for: 'quota-sub' }, 'End-user (sub)'),
        sub,
        h('label', { for: 'quota-key' }, 'API key id'),
        keyId,
        h('label', { for: 'quota-period' }, 'Period'),
        period,
        h('label', { for: 'quota-characters' }, 'Characters per period'),
        characters,
        h('label', { for: 'quota-audio' }, 'Seconds of audio heard per period'),
        audio,
        h('button', { type: 'submit' }, 'Save quota'),
      )
    : null
  section.append(status, list)
  if (form) section.append(form)

  const load = () =>
    attempt(list, async () => {
      const { data } = await api<{ data: Quota[] }>('GET', '/quotas')
      fill(
        list,
        data.length === 0
          ? empty('No quota: nothing is capped.')
          : table(
              'Quotas',
              ['End-user', 'Key', 'Period', 'Used this period', 'Period ends', ...(admin ? ['Actions'] : [])],
              data.map((q) => [
                q.sub ?? 'any',
                q.key_id ? h('code', {}, q.key_id) : 'any',
                q.period,
                h(
                  'div',
                  {},
                  bar('characters', q.used.characters, q.characters, count),
                  bar('heard', q.used.audio_seconds, q.audio_seconds, duration),
                ),
                when(q.period_ends),
                admin
                  ? h(
                      'div',
                      { class: 'row-actions' },
                      h(
                        'button',
                        { type: 'button', class: 'small', onclick: () => edit(q) },
                        `Edit quota of ${q.sub ?? 'any'}`,
                      ),
                      h(
                        'button',
                        { type: 'button', class: 'danger small', onclick: () => void remove(q) },
                        `Remove quota of ${q.sub ?? 'any'}`,
                      ),
                    )
                  : null,
              ]),
            ),
      )
    })

  const edit = (q: Quota) => {
    sub.value = q.sub ?? ''
    keyId.value = q.key_id ?? ''
    period.value = q.period
    characters.value = q.characters === null ? '' : String(q.characters)
    audio.value = q.audio_seconds === null ? '' : String(q.audio_seconds)
    characters.focus()
  }
  const remove = async (q: Quota) => {
    const who = `${q.sub ?? 'any end-user'}, ${q.key_id ?? 'any key'}, per ${q.period}`
    if (
      await confirmDialog('Remove quota', `Remove the quota of ${who}? Nothing caps them afterwards.`, 'Remove quota')
    )
      await attempt(status, async () => api('DELETE', `/quotas/${encodeURIComponent(q.id)}`).then(load))
  }
  form?.addEventListener('submit', (event) => {
    event.preventDefault()
    void attempt(status, async () => {
      await api('PUT', '/quotas', {
        ...(sub.value && { sub: sub.value }),
        ...(keyId.value && { key_id: keyId.value }),
        period: period.value,
        ...(characters.value !== '' && { characters: Number(characters.value) }),
        ...(audio.value !== '' && { audio_seconds: Number(audio.value) }),
      })
      status.append(h('p', { role: 'status' }, 'Quota saved.'))
      await load()
    })
  })
  void load()
  return undefined
}
