import { api, routeExists } from '../api.ts'
import { confirmDialog } from '../dialog.ts'
import { empty, fill, h, loading, table } from '../dom.ts'
import { attempt } from '../errors.ts'
import { when } from '../format.ts'
import { actorName, auditPage } from '../audit-data.ts'
import { type AuditAction, REVOKE_REASON_MAX_CHARS } from '../server-names.ts'
import type { Session } from './index.ts'

/** The audit actions that are revocations; typed, so a renamed action fails the typecheck. */
const ACTIONS: readonly AuditAction[] = ['subject.revoked', 'token.revoked', 'api_key.revoked']

/** Revoke a `sub` (every token issued until now) or one token id; the recent ones from the audit log. */
export function revocations(section: HTMLElement, session: Session): undefined {
  const status = h('div')
  const recent = h(
    'section',
    { 'aria-labelledby': 'recent-title' },
    h('h2', { id: 'recent-title' }, 'Recent revocations'),
    loading('revocations'),
  )
  const kind = h(
    'select',
    { id: 'revoke-kind' },
    h('option', { value: 'sub' }, 'End-user (sub)'),
    h('option', { value: 'jti' }, 'Token id (jti)'),
  )
  const value = h('input', { id: 'revoke-value', required: true, autocomplete: 'off', maxlength: 256 })
  const reason = h('input', {
    id: 'revoke-reason',
    autocomplete: 'off',
    maxlength: REVOKE_REASON_MAX_CHARS,
    'aria-describedby': 'revoke-reason-hint',
  })
  const form =
    session.scope === 'admin'
      ? h(
          'form',
          { class: 'card stack', 'aria-labelledby': 'revoke-title' },
          h('h2', { id: 'revoke-title' }, 'Revoke'),
          h(
            'p',
            { class: 'muted' },
            'An end-user: every token issued to them until now, on every instance, open streams included. A token id: that one token.',
          ),
          h('label', { for: 'revoke-kind' }, 'What'),
          kind,
          h('label', { for: 'revoke-value' }, 'Sub or token id'),
          value,
          h('label', { for: 'revoke-reason' }, 'Reason (optional)'),
          reason,
          h(
            'p',
            { id: 'revoke-reason-hint', class: 'muted' },
            'Kept in the audit log with the revocation. No secrets.',
          ),
          h('button', { type: 'submit', class: 'danger' }, 'Revoke'),
        )
      : null
  if (form) section.append(form)
  section.append(status, recent)
  form?.addEventListener('submit', (event) => {
    event.preventDefault()
    void (async () => {
      const what = kind.value === 'sub' ? `every token of “${value.value}” issued until now` : `token ${value.value}`
      if (!(await confirmDialog('Revoke', `Revoke ${what}? This cannot be undone.`, 'Revoke'))) return
      await attempt(status, async () => {
        const why = reason.value.trim() === '' ? {} : { reason: reason.value }
        await api(
          'POST',
          '/access-token/revoke',
          kind.value === 'sub'
            ? { sub: value.value, ...why } // every token issued until now, by the server's clock
            : { jti: value.value, ...why },
        )
        status.append(h('p', { role: 'status' }, `Revoked ${what}.`))
        value.value = ''
        reason.value = ''
        void load()
      })
    })()
  })
  const load = async () => {
    const heading = h('h2', { id: 'recent-title' }, 'Recent revocations')
    if (!(await routeExists('/audit?limit=1'))) {
      fill(recent, heading, empty('Recent revocations come from the audit log, which is not available on this server.'))
      return
    }
    await attempt(recent, async () => {
      const pages = await Promise.all(ACTIONS.map((action) => auditPage({ action, limit: '20' })))
      const rows = pages
        .flatMap((p) => p.data)
        .sort((a, b) => b.at.localeCompare(a.at))
        .slice(0, 30)
      fill(
        recent,
        heading,
        rows.length === 0
          ? empty('Nothing has been revoked yet.')
          : table(
              'The last 30, newest first',
              ['When', 'What', 'Target', 'Reason', 'By'],
              rows.map((e) => [
                when(e.at),
                h('code', {}, e.action),
                e.target.id,
                typeof e.details?.reason === 'string' ? e.details.reason : '—',
                actorName(e.actor),
              ]),
            ),
      )
    })
  }
  void load()
  return undefined
}
