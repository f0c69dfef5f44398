import { audit } from './audit.ts'
import { keys } from './keys.ts'
import { overview } from './overview.ts'
import { playground } from './playground.ts'
import { quotas } from './quotas.ts'
import { revocations } from './revocations.ts'
import { usage } from './usage.ts'
import { webhooks } from './webhooks.ts'

/** Who is signed in (`GET /console/api/session`). */
export interface Session {
  scope: 'admin' | 'read'
  key_id: string | null
  idle_at: string | null
  expires_at: string | null
}

export interface Page {
  slug: string
  /** The navigation link's name: tests and people find pages by it. */
  name: string
  /** A route this page needs that older servers lack: the link shows only where it answers. */
  probe?: string
  /** Draws the page into `section`; returns what stops its timers and feeds, if any. */
  render(section: HTMLElement, session: Session): (() => void) | undefined
}

export const PAGES: readonly Page[] = [
  { slug: '', name: 'Overview', render: overview },
  { slug: 'keys', name: 'Keys', render: keys },
  { slug: 'usage', name: 'Usage', render: usage },
  { slug: 'quotas', name: 'Quotas', render: quotas },
  { slug: 'revocations', name: 'Revocations', render: revocations },
  { slug: 'audit', name: 'Audit log', probe: '/audit?limit=1', render: audit },
  { slug: 'webhooks', name: 'Webhooks', probe: '/webhooks', render: webhooks },
  { slug: 'playground', name: 'Playground', render: playground },
]
