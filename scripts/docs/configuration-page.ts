import path from 'node:path'
import { DEFAULT_DATA_DIR, ServerConfigSchema } from '../../packages/server/src/config.ts'
import { SERVE_OPTIONS, STORE_OPTIONS } from '../../packages/server/src/cli/option-table.ts'
import { envName, type CliOption } from '../../packages/server/src/cli/options.ts'
import { code, generatedNotice, table } from './markdown.ts'
import { propertyDocs, sourceOf } from './jsdoc.ts'

const root = path.resolve(import.meta.dirname, '../..')
const CONFIG_FILE = 'packages/server/src/config.ts'
const OPTION_TABLE_FILE = 'packages/server/src/cli/option-table.ts'

const INTRO = `# Configuration

Every \`voxgate serve\` option can come from an environment variable instead: \`VOXGATE_\` and the flag
in upper case with dashes as underscores (\`--store\` ↔ \`VOXGATE_STORE\`, \`--redis-prefix\` ↔
\`VOXGATE_REDIS_PREFIX\`); \`--data\` keeps \`VOXGATE_DATA_DIR\`. Repeatable options take a
comma-separated list (\`VOXGATE_ALLOWED_ORIGIN=https://a.example,https://b.example\`), switches \`1\`/\`true\`
(or \`0\`/\`false\`). A flag wins over its variable; the same option given both as a secret's variable and
its file is a usage error. \`voxgate serve --help\` prints this table. Options marked "environment only"
are secrets: never a flag, which \`ps\` would show.

One table (\`${OPTION_TABLE_FILE}\`) drives the flags, the variables and the help; defaults live in one
place, \`${CONFIG_FILE}\` (listed below), where every value is validated at start: a nonsense value stops
the start with one line naming the option.`

/** The page: the serve options, the store options the other commands share, and every config field with its default. */
export function configurationPage(): string {
  return [
    generatedNotice([OPTION_TABLE_FILE, CONFIG_FILE]),
    '',
    INTRO,
    '',
    '## `voxgate serve`',
    '',
    optionTable(SERVE_OPTIONS),
    '',
    '## `voxgate keys`, `voxgate usage`, `voxgate quotas`',
    '',
    'These commands open the store, and take the same store options as `serve` (see [the CLI](cli.md) for their own):',
    '',
    optionTable(STORE_OPTIONS),
    '',
    '## Every server setting and its default',
    '',
    'What `startServer(config)` from `@voxgate/server` accepts, and what the options above set. Fields',
    'without a flag are for embedding the server (and tests); durations are in milliseconds, sizes in bytes.',
    '',
    settingsTable(),
    '',
  ].join('\n')
}

function optionTable(options: readonly CliOption[]): string {
  return table(
    ['Flag', 'Environment', 'What'],
    options.map((o) => [
      o.flag ? code(`--${o.flag}${o.arg ? ` ${o.arg}` : ''}`) : 'environment only',
      code(envName(o)),
      o.help,
    ]),
  )
}

function settingsTable(): string {
  const docs = propertyDocs(sourceOf(path.join(root, CONFIG_FILE)), 'ServerConfigSchema')
  const defaults = ServerConfigSchema.parse({ dataDir: DEFAULT_DATA_DIR }) as Record<string, unknown>
  const option = (key: string) => SERVE_OPTIONS.find((o) => o.key === key && o.flag)
  return table(
    ['Setting', 'Default', 'Flag', 'What'],
    Object.keys(ServerConfigSchema.shape).map((key) => [
      code(key),
      defaultText(defaults[key]),
      option(key) ? code(`--${option(key)!.flag}`) : '',
      // A field without a comment of its own is explained by its flag's help line.
      docs.get(key) || option(key)?.help || '',
    ]),
  )
}

function defaultText(value: unknown): string {
  if (value === undefined) return '—'
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => code(String(v))).join(', ')
  return code(String(value))
}
