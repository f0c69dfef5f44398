import { api } from '../api.ts'
import { confirmDialog, modal } from '../dialog.ts'
import { empty, fill, h, loading, table } from '../dom.ts'
import { attempt } from '../errors.ts'
import { when } from '../format.ts'
import type { Session } from './index.ts'

interface ApiKey {
  id: string
  name: string
  scopes: string[]
  prefix: string
  created_at: string
  last_used_at: string | null
  expires_at: string | null
  /** Present on servers with key rotation (issue 22): until when the previous secret still works. */
  rotating_until?: string | null
}

const SCOPES = [
  ['mint', 'Mint access tokens'],
  ['speech', 'Speech routes with the key itself'],
  ['read', 'Read usage, quotas, keys and the audit log'],
  ['admin', 'Everything, every change included'],
] as const

/** How long a rotated key's old secret keeps working (`grace_seconds`, 0 to 604800). */
const GRACES = [
  [0, 'Not at all: it stops now'],
  [3_600, 'For 1 hour'],
  [86_400, 'For 24 hours'],
  [604_800, 'For 7 days'],
] as const

/** The keys (never a secret but once, at creation), with Create, Rotate (where the server rotates) and Revoke. */
export function keys(section: HTMLElement, session: Session): undefined {
  const admin = session.scope === 'admin'
  const status = h('div')
  const list = h('div', { class: 'card' }, loading('keys'))
  const create = admin ? h('button', { type: 'button', onclick: () => openCreate() }, 'Create key') : null
  section.append(h('div', { class: 'toolbar' }, create), status, list)

  const load = () =>
    attempt(list, async () => {
      const { data } = await api<{ data: ApiKey[] }>('GET', '/api-keys')
      const rotation = data.some((k) => 'rotating_until' in k)
      fill(
        list,
        data.length === 0
          ? empty('No key yet.')
          : table(
              'API keys',
              [
                'Name',
                'Scopes',
                'Prefix',
                'Created',
                'Last used',
                'Expires',
                'Rotating until',
                ...(admin ? ['Actions'] : []),
              ],
              data.map((k) => [
                k.name,
                k.scopes.join(', '),
                h('code', {}, `${k.prefix}…`),
                when(k.created_at),
                when(k.last_used_at, 'never'),
                when(k.expires_at, 'never'),
                when(k.rotating_until),
                admin
                  ? h(
                      'div',
                      { class: 'row-actions' },
                      rotation
                        ? h('button', { type: 'button', class: 'small', onclick: () => rotate(k) }, `Rotate ${k.name}`)
                        : null,
                      h(
                        'button',
                        { type: 'button', class: 'danger small', onclick: () => void revoke(k) },
                        `Revoke ${k.name}`,
                      ),
                    )
                  : null,
              ]),
            ),
      )
    })

  const revoke = async (k: ApiKey) => {
    const sure = await confirmDialog(
      `Revoke key “${k.name}”`,
      `Key “${k.name}” (${k.id}) stops working on every instance at once, and every token it minted with it.`,
      `Revoke ${k.name}`,
    )
    if (sure) await attempt(status, async () => api('DELETE', `/api-keys/${encodeURIComponent(k.id)}`).then(load))
  }

  const rotate = (k: ApiKey) => {
    const error = h('div')
    const grace = h(
      'select',
      { id: 'rotate-grace', name: 'grace' },
      GRACES.map(([seconds, text]) => h('option', { value: seconds, selected: seconds === 86_400 }, text)),
    )
    const form = h(
      'form',
      { class: 'stack' },
      h('p', {}, `A new secret for “${k.name}” (${k.id}) is shown once. Deploy it before the old one stops.`),
      h('label', { for: 'rotate-grace' }, 'The old secret keeps working'),
      grace,
      error,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit' }, `Rotate ${k.name}`),
      ),
    )
    const dialog = modal(`Rotate key “${k.name}”`, form)
    grace.focus()
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      void attempt(error, async () => {
        const rotated = await api<{ key: string }>('POST', `/api-keys/${encodeURIComponent(k.id)}/rotate`, {
          grace_seconds: Number(grace.value),
        })
        dialog.close()
        showSecret(`New secret for “${k.name}”`, rotated.key)
        await load()
      })
    })
  }

  const openCreate = () => {
    const error = h('div')
    const name = h('input', { id: 'key-name', name: 'name', required: true, maxlength: 100, autocomplete: 'off' })
    const boxes = SCOPES.map(([scope, text]) =>
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', name: 'scopes', value: scope, checked: scope === 'mint' || scope === 'speech' }),
        ` ${scope}: ${text}`,
      ),
    )
    const expiry = h(
      'select',
      { id: 'key-expiry', name: 'expiry' },
      h('option', { value: '' }, 'Never'),
      [7, 30, 90, 365].map((d) => h('option', { value: d }, `In ${d} days`)),
    )
    const form = h(
      'form',
      { method: 'dialog', class: 'stack' },
      h('label', { for: 'key-name' }, 'Name'),
      name,
      h('fieldset', {}, h('legend', {}, 'Scopes'), boxes),
      h('label', { for: 'key-expiry' }, 'Expires'),
      expiry,
      error,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit' }, 'Create'),
      ),
    )
    const dialog = modal('Create key', form)
    name.focus()
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      void attempt(error, async () => {
        const scopes = boxes
          .map((l) => l.querySelector('input')!)
          .filter((i) => i.checked)
          .map((i) => i.value)
        const days = Number(expiry.value)
        const created = await api<{ key: string; name: string }>('POST', '/api-keys', {
          name: name.value,
          scopes,
          ...(days > 0 && { expires_at: new Date(Date.now() + days * 86_400_000).toISOString() }),
        })
        dialog.close()
        showSecret(`Key “${created.name}” created`, created.key)
        await load()
      })
    })
  }

  void load()
  return undefined
}

/**
 * Shows a new secret once, with a copy button. It is on the page only while this dialog is open:
 * closing it removes the dialog, and the secret with it.
 */
function showSecret(title: string, secret: string): void {
  const copied = h('span', { role: 'status', class: 'muted' })
  const field = h('input', {
    id: 'new-secret',
    readonly: true,
    class: 'secret',
    'aria-label': 'The new secret',
    autocomplete: 'off',
    spellcheck: 'false',
  })
  field.value = secret
  const dialog = modal(
    title,
    h('p', {}, 'Copy it now: it is shown only this once, and voxgate keeps only its hash.'),
    field,
    h(
      'div',
      { class: 'actions' },
      copied,
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            await navigator.clipboard.writeText(field.value).then(
              () => (copied.textContent = 'Copied'),
              () => (copied.textContent = 'Copy failed: select the text and copy it'),
            )
          },
        },
        'Copy',
      ),
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Done'),
    ),
  )
  dialog.addEventListener('close', () => (field.value = ''))
  field.select()
}
