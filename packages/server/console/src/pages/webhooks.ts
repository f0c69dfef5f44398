import { api } from '../api.ts'
import { confirmDialog, modal } from '../dialog.ts'
import { empty, fill, h, loading, table } from '../dom.ts'
import { attempt, errorBox, isNotFound, notAvailable } from '../errors.ts'
import { when } from '../format.ts'
import { WEBHOOK_EVENT_TYPES } from '../server-names.ts'
import type { Session } from './index.ts'

/** A webhook as issue 22 documents `GET /webhooks` (a `read` session sees URLs masked). */
interface Webhook {
  id: string
  url: string
  events: string[]
}
interface Delivery {
  event_id: string
  type: string
  attempt: number
  status_code: number | null
  error: string | null
  next_attempt_at: string | null
  delivered_at: string | null
}

/** How many seconds the page watches a test event's delivery after "Send test". */
const TEST_WATCH_TRIES = 15

/** Webhook endpoints, their events and recent deliveries, "Send test", add and remove. */
export function webhooks(section: HTMLElement, session: Session): undefined {
  const admin = session.scope === 'admin'
  const status = h('div')
  const list = h('div', {}, loading('webhooks'))
  const add = admin ? h('button', { type: 'button', onclick: () => openAdd() }, 'Add webhook') : null
  section.append(h('div', { class: 'toolbar' }, add), status, list)

  const load = async () => {
    try {
      const { data } = await api<{ data: Webhook[] }>('GET', '/webhooks')
      fill(
        list,
        data.length === 0
          ? empty('No webhook yet.')
          : data.map((w) => {
              const deliveries = h('div', {}, loading('deliveries'))
              void showDeliveries(w, deliveries)
              return h(
                'article',
                { class: 'card' },
                h('h2', {}, h('code', {}, w.url)),
                h('p', {}, `Events: ${w.events.join(', ')}`),
                admin
                  ? h(
                      'div',
                      { class: 'row-actions' },
                      h(
                        'button',
                        {
                          type: 'button',
                          class: 'small',
                          // Unique among several webhooks, and starting with what the button says.
                          'aria-label': `Send test to ${w.url}`,
                          onclick: () =>
                            void attempt(status, async () => {
                              await api('POST', `/webhooks/${encodeURIComponent(w.id)}/test`)
                              const note = h('p', { role: 'status' }, 'Test event queued.')
                              status.append(note)
                              note.textContent = await followTest(w, deliveries)
                            }),
                        },
                        'Send test',
                      ),
                      h(
                        'button',
                        {
                          type: 'button',
                          class: 'danger small',
                          'aria-label': `Remove ${w.url}`,
                          onclick: () => void remove(w),
                        },
                        'Remove',
                      ),
                    )
                  : null,
                deliveries,
              )
            }),
      )
    } catch (err) {
      fill(list, isNotFound(err) ? notAvailable('Webhooks') : errorBox(err))
    }
  }
  /** Shows the webhook's recent deliveries; returns them (none when the list could not be read). */
  const showDeliveries = async (w: Webhook, where: HTMLElement): Promise<Delivery[]> => {
    let shown: Delivery[] = []
    await attempt(where, async () => {
      const { data } = await api<{ data: Delivery[] }>('GET', `/webhooks/${encodeURIComponent(w.id)}/deliveries`)
      shown = data
      fill(
        where,
        data.length === 0
          ? empty('No delivery yet.')
          : table(
              'Recent deliveries',
              ['Event', 'Attempt', 'Status', 'Delivered', 'Next attempt'],
              data.map((d) => [
                d.type,
                d.attempt,
                d.status_code ?? d.error ?? '—',
                when(d.delivered_at),
                when(d.next_attempt_at),
              ]),
              [1],
            ),
      )
    })
    return shown
  }
  /**
   * Watches the deliveries until the test event's first attempt has an outcome (the first try is
   * made within seconds; later retries follow a backoff of hours, so the watch stops there).
   */
  const followTest = async (w: Webhook, where: HTMLElement): Promise<string> => {
    for (let i = 0; i < TEST_WATCH_TRIES; i++) {
      const test = (await showDeliveries(w, where)).find((d) => d.type === 'webhook.test')
      if (test?.delivered_at) return `Test event delivered (${test.status_code}).`
      if (test && (test.error || test.status_code))
        return `Test event not delivered: ${test.status_code ?? test.error}; it is retried.`
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    return 'Test event queued; see its delivery below.'
  }
  const remove = async (w: Webhook) => {
    if (await confirmDialog('Remove webhook', `Stop sending events to ${w.url}?`, 'Remove webhook'))
      await attempt(status, async () => api('DELETE', `/webhooks/${encodeURIComponent(w.id)}`).then(load))
  }
  const openAdd = () => {
    const error = h('div')
    const url = h('input', { id: 'webhook-url', type: 'url', required: true, placeholder: 'https://…' })
    const boxes = WEBHOOK_EVENT_TYPES.map((e) =>
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', value: e, checked: e === 'quota.threshold' }),
        ` ${e}`,
      ),
    )
    const form = h(
      'form',
      { class: 'stack' },
      h('label', { for: 'webhook-url' }, 'URL'),
      url,
      h('fieldset', {}, h('legend', {}, 'Events'), boxes),
      error,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit' }, 'Add'),
      ),
    )
    const dialog = modal('Add webhook', form)
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      void attempt(error, async () => {
        const events = boxes
          .map((b) => b.querySelector('input')!)
          .filter((i) => i.checked)
          .map((i) => i.value)
        const created = await api<{ secret: string }>('POST', '/webhooks', { url: url.value, events })
        dialog.close()
        const field = h('input', { readonly: true, class: 'secret', 'aria-label': 'Signing secret' })
        field.value = created.secret
        const shown = modal(
          'Webhook added',
          h('p', {}, 'Its signing secret, shown only this once:'),
          field,
          h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => shown.close() }, 'Done')),
        )
        shown.addEventListener('close', () => (field.value = ''))
        await load()
      })
    })
  }
  void load()
  return undefined
}
