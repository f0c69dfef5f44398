import path from 'node:path'
import { ERROR_CATALOGUE, type ErrorCode } from '../../packages/protocol/src/errors.ts'
import { ERROR_MEANINGS } from '../../packages/protocol/src/error-meanings.ts'
import { APP_KIT_ERRORS } from '../../packages/app-kit/src/errors.ts'
import { code, generatedNotice, table } from './markdown.ts'
import { propertyDocs, sourceOf, unionMemberDocs } from './jsdoc.ts'

const root = path.resolve(import.meta.dirname, '../..')
const SOURCES = {
  catalogue: 'packages/protocol/src/errors.ts',
  meanings: 'packages/protocol/src/error-meanings.ts',
  appKit: 'packages/app-kit/src/errors.ts',
  client: 'packages/client/src/errors.ts',
}

const INTRO = `# Errors

Every error has Cartesia's shape \`{"error_code", "title", "message", "request_id"}\`; 401s carry
\`WWW-Authenticate: Bearer error="invalid_token"\`, scope failures \`Bearer error="insufficient_scope"\`.
On SSE and WebSocket the same fields arrive as an \`error\` event with \`done: true\` (plus the legacy
\`error\` string for old clients). Messages never contain a credential. Limits behind these codes are in
[limits](limits.md).`

const APP_KIT_INTRO = `## App kit (\`@voxgate/app-kit\`)

Your backend's token and sign-out routes answer in the same shape, with codes of their own (see
[the app kit](app-kit.md)):`

const CLIENT_INTRO = `## Client SDK (\`@voxgate/client\`)

Every failure the SDK reports is a \`VoxgateClientError\` with a stable \`code\` and \`retryable\` (see
[the client SDK](client-sdk.md)). A voice-API code becomes \`ERR_<CODE>\` (\`token_expired\` →
\`ERR_TOKEN_EXPIRED\`); the SDK's own codes:`

/** The page: the voice API's catalogue with meaning and fix, then the app kit's and the client's codes. */
export function errorsPage(): string {
  return [
    generatedNotice(Object.values(SOURCES)),
    '',
    INTRO,
    '',
    '## Voice API',
    '',
    voiceApiTable(),
    '',
    APP_KIT_INTRO,
    '',
    appKitTable(),
    '',
    CLIENT_INTRO,
    '',
    clientTable(),
    '',
  ].join('\n')
}

function voiceApiTable(): string {
  const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[]
  return table(
    ['`error_code`', 'Status', 'Title', 'Meaning and fix'],
    codes.map((c) => [code(c), String(ERROR_CATALOGUE[c].status), ERROR_CATALOGUE[c].title, ERROR_MEANINGS[c]]),
  )
}

function appKitTable(): string {
  const docs = propertyDocs(sourceOf(path.join(root, SOURCES.appKit)), 'APP_KIT_ERRORS')
  return table(
    ['`error_code`', 'Status', 'Message', 'Meaning and fix'],
    Object.entries(APP_KIT_ERRORS).map(([c, e]) => [code(c), String(e.status), e.message, docs.get(c) ?? '']),
  )
}

function clientTable(): string {
  const docs = unionMemberDocs(sourceOf(path.join(root, SOURCES.client)), 'ClientErrorCode')
  return table(
    ['`code`', 'Meaning and fix'],
    [...docs].map(([c, doc]) => [code(c), doc]),
  )
}
