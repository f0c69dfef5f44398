import { z } from 'zod'
import { json, type RouteDoc } from '../http/route-doc.ts'

/** The sign-in body as documented (console/routes.ts validates it with length bounds too). */
const SignIn = z.union([z.strictObject({ code: z.string() }), z.strictObject({ key: z.string() })])
const html = (description: string) => ({ status: 200, type: 'text/html', description })

/**
 * The operator console's routes (`--console`, docs/console.md): its files and its own API. They are
 * in the document only where the server serves them.
 */
export const CONSOLE_DOCS: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/console',
    summary: 'Redirects (308) to /console/',
    tag: 'console',
    access: 'none',
    ok: { status: 308, type: 'text/plain', description: 'To `/console/`' },
    errors: [],
  },
  {
    method: 'get',
    path: '/console/',
    summary: "The operator console's page (strict CSP, no framing)",
    tag: 'console',
    access: 'none',
    ok: html('The page'),
    errors: [],
  },
  {
    method: 'get',
    path: '/console/*',
    summary: "The console's hashed assets (cached for a year), or its page for any other path",
    tag: 'console',
    access: 'none',
    ok: html('A file'),
    errors: ['not_found'],
  },
  {
    method: 'post',
    path: '/console/api/login',
    summary:
      'Sign in with a one-time code (`voxgate console-link`) or an admin/read API key; sets the `__Host-voxgate-console` session cookie. From the console origin only; throttled per address',
    tag: 'console',
    access: 'none',
    body: { schema: SignIn, name: 'ConsoleSignIn' },
    ok: json('`{scope, key_id}`'),
    errors: [
      'invalid_request',
      'invalid_credentials',
      'insufficient_scope',
      'api_key_required',
      'origin_not_allowed',
      'rate_limited',
    ],
  },
  {
    method: 'post',
    path: '/console/api/logout',
    summary: 'Ends the console session on every instance and clears its cookie (204)',
    tag: 'console',
    access: 'none',
    ok: { status: 204, type: 'text/plain', description: 'Signed out' },
    errors: ['origin_not_allowed'],
  },
  {
    method: 'get',
    path: '/console/api/session',
    summary: 'Who is signed in: `{scope, key_id, idle_at, expires_at}` (the session cookie, or a read key)',
    tag: 'console',
    access: 'api_key',
    scope: 'read',
    ok: json('`{scope, key_id, idle_at, expires_at}`'),
    errors: [],
  },
  {
    method: 'get',
    path: '/console/api/events',
    summary:
      'Server-sent events: `open_streams` every second (by transport and sub; cluster-wide with Redis), `signed_out` when the session ends',
    tag: 'console',
    access: 'api_key',
    scope: 'read',
    ok: { status: 200, type: 'text/event-stream', description: 'The live feed' },
    errors: [],
  },
]
