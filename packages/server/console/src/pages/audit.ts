import { empty, fill, h, loading, table } from '../dom.ts'
import { errorBox, isNotFound, notAvailable } from '../errors.ts'
import { when } from '../format.ts'
import { actorName, auditPage, detailsText } from '../audit-data.ts'
import { AUDIT_ACTIONS } from '../server-names.ts'

const PAGE_SIZE = '50'

/** The audit log (`GET /audit`, issue 22), filtered by action, key and dates, a page at a time. */
export function audit(section: HTMLElement): undefined {
  const action = h(
    'select',
    { id: 'audit-action' },
    h('option', { value: '' }, 'Any'),
    AUDIT_ACTIONS.map((a) => h('option', { value: a }, a)),
  )
  const keyId = h('input', { id: 'audit-key', autocomplete: 'off', placeholder: 'any' })
  const from = h('input', { id: 'audit-from', type: 'date' })
  const to = h('input', { id: 'audit-to', type: 'date' })
  const form = h(
    'form',
    { class: 'controls' },
    h('span', { class: 'field' }, h('label', { for: 'audit-action' }, 'Action'), action),
    h('span', { class: 'field' }, h('label', { for: 'audit-key' }, 'Key id'), keyId),
    h('span', { class: 'field' }, h('label', { for: 'audit-from' }, 'From'), from),
    h('span', { class: 'field' }, h('label', { for: 'audit-to' }, 'To'), to),
    h('button', { type: 'submit' }, 'Filter'),
  )
  const out = h('div', {}, loading('the audit log'))
  section.append(form, out)
  /** Cursors of the pages before this one, for Previous. */
  const before: string[] = []
  let cursor = ''
  const load = async () => {
    fill(out, loading('the audit log'))
    try {
      const page = await auditPage({
        action: action.value,
        key_id: keyId.value,
        from: from.value,
        to: to.value,
        limit: PAGE_SIZE,
        cursor,
      })
      const prev = h('button', { type: 'button', disabled: before.length === 0 }, 'Previous page')
      const next = h('button', { type: 'button', disabled: page.next_cursor === null }, 'Next page')
      prev.addEventListener('click', () => {
        cursor = before.pop() ?? ''
        void load()
      })
      next.addEventListener('click', () => {
        before.push(cursor)
        cursor = page.next_cursor ?? ''
        void load()
      })
      fill(
        out,
        page.data.length === 0
          ? empty('No entry matches.')
          : table(
              'Audit log',
              ['When', 'Action', 'Target', 'By', 'Details', 'Request'],
              page.data.map((e) => [
                when(e.at),
                h('code', {}, e.action),
                `${e.target.type} ${e.target.id}`,
                actorName(e.actor),
                detailsText(e.details),
                e.request_id ?? '—',
              ]),
            ),
        h('nav', { class: 'pager', 'aria-label': 'Audit log pages' }, prev, next),
      )
    } catch (err) {
      fill(out, isNotFound(err) ? notAvailable('The audit log') : errorBox(err))
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    before.length = 0
    cursor = ''
    void load()
  })
  void load()
  return undefined
}
