import { VoicesQuery } from '@voxgate/protocol/schemas'
import { json, UPSTREAM_ERRORS, type RouteDoc } from '../http/route-doc.ts'

/** The voice list and one voice, local (routes/voices.ts) or relayed (gateway/routes.ts) alike. */
export const VOICE_DOCS: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/voices',
    summary: 'List voices',
    tag: 'voices',
    access: { grant: 'voices' },
    query: VoicesQuery,
    ok: json('`{data, has_more, next_page}` (a bare array before API version 2024-11-13)'),
    errors: ['invalid_request', ...UPSTREAM_ERRORS],
  },
  {
    method: 'get',
    path: '/voices/',
    summary: 'List voices (SDK2 path)',
    tag: 'voices',
    access: { grant: 'voices' },
    query: VoicesQuery,
    ok: json('As `GET /voices`'),
    errors: ['invalid_request', ...UPSTREAM_ERRORS],
  },
  {
    method: 'get',
    path: '/voices/{id}',
    summary: 'One voice',
    tag: 'voices',
    access: { grant: 'voices' },
    ok: json('A voice'),
    errors: ['voice_not_found', ...UPSTREAM_ERRORS],
  },
]
