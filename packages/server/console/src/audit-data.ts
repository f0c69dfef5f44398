import { api } from './api.ts'

/** An audit row as issue 22 documents `GET /audit`'s answer. */
export interface AuditEntry {
  id: string
  at: string
  action: string
  actor: { type: 'api_key' | 'cli' | 'console'; key_id?: string }
  target: { type: string; id: string }
  request_id?: string
  ip?: string
  details?: Record<string, unknown>
}

export interface AuditPage {
  data: AuditEntry[]
  next_cursor: string | null
}

export const auditPage = (query: Record<string, string>) =>
  api<AuditPage>('GET', `/audit?${new URLSearchParams(Object.entries(query).filter(([, v]) => v !== ''))}`)

export const actorName = (a: AuditEntry['actor']): string =>
  a.type === 'cli'
    ? 'CLI'
    : `${a.type === 'console' ? 'console' : 'key'}${a.key_id ? ` ${a.key_id}` : a.type === 'console' ? ' (link)' : ''}`

/** A row's details as one line (`scope: admin; method: link`), or "—" when it has none. */
export const detailsText = (details: AuditEntry['details']): string => {
  const parts = Object.entries(details ?? {}).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
  return parts.length === 0 ? '—' : parts.join('; ')
}
