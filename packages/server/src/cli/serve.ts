import { openStore } from '../store/open.ts'
import { startServer } from '../server.ts'
import { DATA_OPTION, dataDir, intOption, parse, UsageError } from './args.ts'
import type { Io } from './io.ts'
import { createKey } from './keys.ts'

export const SERVE_HELP = `Usage: voxgate serve [options]

Serves the voice API over HTTPS. Without --tls-cert/--tls-key a development CA and certificate are
created in the data folder (trust dev-ca.pem once to use it from a browser).

Options:
  --host H                      address to listen on (default 127.0.0.1)
  --port N                      port (default 8443; 0 picks a free one)
  --data DIR                    data folder (default ./.voxgate, env VOXGATE_DATA_DIR)
  --tls-cert FILE --tls-key FILE  PEM certificate chain and private key
  --insecure-http-behind-proxy  plain HTTP, only behind a TLS-terminating proxy
  --hsts-max-age SECONDS        Strict-Transport-Security max-age on HTTPS responses (default
                                31536000, one year; 0 sends none)
  --trusted-proxy ADDR          proxy address whose X-Forwarded-Proto: https is believed (repeatable;
                                default 127.0.0.1 and ::1)
  --allowed-origin URL          origin allowed to use the token cookie and browser WebSockets (repeatable)
  --token-cookie NAME           read an access token from this cookie (cookie mode)
  --log-level LEVEL             fatal|error|warn|info|debug|trace|silent (default info)
  --mint-per-minute N           tokens one API key may mint per minute (default 6000; 0 = no limit)
  --tts-streams-per-minute N    TTS streams one API key's credentials may open per minute (default 6000)
  --headers-timeout-seconds N   a request's headers must arrive within N s (default 20)
  --request-timeout-seconds N   a whole request, headers and body, must arrive within N s (default 300)
  --body-min-rate BYTES         after the grace, a body must average BYTES per second (default 1000;
                                0 = no minimum)
  --body-grace-seconds N        seconds a body may take before the minimum rate applies (default 10)
  --ws-session-grace-seconds N  how long a WebSocket may outlive its token (default 900)
  -h, --help                    this help`

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    ...DATA_OPTION,
    host: { type: 'string' }, port: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' },
    'insecure-http-behind-proxy': { type: 'boolean' }, 'trusted-proxy': { type: 'string', multiple: true },
    'hsts-max-age': { type: 'string' },
    'allowed-origin': { type: 'string', multiple: true },
    'token-cookie': { type: 'string' }, 'log-level': { type: 'string' },
    'mint-per-minute': { type: 'string' }, 'tts-streams-per-minute': { type: 'string' },
    'ws-session-grace-seconds': { type: 'string' },
    'headers-timeout-seconds': { type: 'string' }, 'request-timeout-seconds': { type: 'string' },
    'body-min-rate': { type: 'string' }, 'body-grace-seconds': { type: 'string' },
  })
  if (values.help) {
    io.out(SERVE_HELP)
    return 0
  }
  const data = dataDir(values.data, io.env)
  const firstKey = await firstRunKey(data)
  const server = await startServer({
    dataDir: data,
    ...(values.host !== undefined && { host: values.host }),
    ...(values.port !== undefined && { port: intOption(values.port, 'port') }),
    ...(values['tls-cert'] !== undefined && { tlsCertFile: values['tls-cert'] }),
    ...(values['tls-key'] !== undefined && { tlsKeyFile: values['tls-key'] }),
    insecureHttpBehindProxy: values['insecure-http-behind-proxy'] === true,
    ...(values['hsts-max-age'] !== undefined && { hstsMaxAgeSeconds: intOption(values['hsts-max-age'], 'hsts-max-age') }),
    ...(values['trusted-proxy'] !== undefined && { trustedProxies: values['trusted-proxy'] }),
    allowedOrigins: values['allowed-origin'] ?? [],
    ...(values['token-cookie'] !== undefined && { tokenCookieName: values['token-cookie'] }),
    ...(values['log-level'] !== undefined && { logLevel: values['log-level'] as 'info' }),
    ...(values['mint-per-minute'] !== undefined && { mintPerMinute: intOption(values['mint-per-minute'], 'mint-per-minute') }),
    ...(values['tts-streams-per-minute'] !== undefined && { ttsStreamsPerMinute: intOption(values['tts-streams-per-minute'], 'tts-streams-per-minute') }),
    ...(values['ws-session-grace-seconds'] !== undefined && { wsSessionGraceMs: intOption(values['ws-session-grace-seconds'], 'ws-session-grace-seconds')! * 1000 }),
    ...seconds(values['headers-timeout-seconds'], 'headers-timeout-seconds', 'headersTimeoutMs'),
    ...seconds(values['request-timeout-seconds'], 'request-timeout-seconds', 'requestTimeoutMs'),
    ...(values['body-min-rate'] !== undefined && { bodyMinBytesPerSecond: intOption(values['body-min-rate'], 'body-min-rate') }),
    ...seconds(values['body-grace-seconds'], 'body-grace-seconds', 'bodyGraceMs'),
  }).catch((err: unknown) => {
    // Invalid option values surface from the config schema as TypeErrors: a usage mistake.
    if (err instanceof TypeError) throw new UsageError(err.message)
    throw err
  })
  if (server.devTls) {
    io.err(`Using a development certificate. To trust it: NODE_EXTRA_CA_CERTS=${server.devTls.caFile} (Node), or import that file as a trusted CA in your browser.`)
  }
  if (firstKey) io.err(`First run: created API key ${firstKey.id}. It is shown only this once:\n\n  ${firstKey.key}\n`)
  io.out(`voxgate listening on ${server.url}`)
  // A bug must not take the server down silently; nothing reaches here from input by design.
  process.on('unhandledRejection', (err) => server.ctx.logger.error({ err }, 'unhandled rejection'))
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await server.close()
  return 0
}

/** On a fresh data folder, one API key so the quick start can mint a token straight away. */
async function firstRunKey(data: string) {
  const store = openStore({ dataDir: data })
  try {
    return (await store.listApiKeys()).length === 0 ? await createKey(store, 'first', Date.now()) : undefined
  } finally {
    await store.close()
  }
}

/** A `--…-seconds` flag as the config's milliseconds field, when given. */
function seconds<K extends string>(value: string | undefined, flag: string, key: K): Partial<Record<K, number>> {
  const n = intOption(value, flag)
  return n === undefined ? {} : ({ [key]: n * 1000 } as Record<K, number>)
}
