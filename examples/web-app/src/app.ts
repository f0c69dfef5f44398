import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { createAppKit, fastifyRoutes } from '@voxgate/app-kit'
import { CAPTURE_WORKLET_SOURCE } from '@voxgate/client'
import { bundleBrowserCode } from './bundle.ts'
import { appConfig, type AppConfig, type AppConfigInput } from './config.ts'
import { AppDb } from './db.ts'
import { createLogger } from './logger.ts'
import { passwordsWith } from './passwords.ts'
import { signInRoute } from './routes/sign-in.ts'
import { signUpRoute } from './routes/sign-up.ts'
import { clearedSessionCookie, sessionIdOf, userOf, voiceUserOf } from './sessions.ts'
import { SignInThrottle } from './sign-in-throttle.ts'
import { SignUpThrottle } from './sign-up-throttle.ts'
import { voiceLister } from './voices.ts'

const PUBLIC = path.join(import.meta.dirname, '..', 'public')
const page = (name: string): string => readFileSync(path.join(PUBLIC, name), 'utf8')

export interface WebApp {
  url: string
  config: Readonly<AppConfig>
  close(): Promise<void>
}

/** Browsers may load scripts only from here and talk only to here and the voice API. */
function securityHeaders(config: Readonly<AppConfig>): Record<string, string> {
  const voice = new URL(config.voicePublicUrl)
  const connect = `'self' ${voice.origin} wss://${voice.host}`
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; connect-src ${connect}; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'strict-transport-security': 'max-age=31536000',
  }
}

/** The token and sign-out routes, all from the app kit, wired to this app's sessions. */
function voiceRoutes(config: Readonly<AppConfig>, db: AppDb, logger: ReturnType<typeof createLogger>) {
  const kit = createAppKit({
    voiceApiUrl: config.voiceApiUrl,
    apiKey: config.apiKey,
    allowedOrigins: [config.origin],
    mode: config.tokenMode,
    expiresInSeconds: config.tokenLifetimeSeconds,
    cookie: { name: config.tokenCookieName },
    // Speak and Listen: one token for both.
    grants: { tts: true, stt: true },
    // Per user: a token is good for two streams at once, and only from this app's pages.
    tokenFor: () => ({ limits: { concurrent_streams: 2, origins: [config.origin] } }),
    mintLimit: config.tokenMintLimit,
    authenticate: (request) => voiceUserOf(db, request.headers.get('cookie')),
    signOut: (request) => {
      const user = voiceUserOf(db, request.headers.get('cookie'))
      const sid = sessionIdOf(request.headers.get('cookie'))
      if (sid) db.deleteSession(sid)
      return { user, setCookies: [clearedSessionCookie()] }
    },
    signOutEverywhere: (request) => {
      const user = voiceUserOf(db, request.headers.get('cookie'))
      if (user) db.deleteUserSessions(user.id)
      return { user, setCookies: [clearedSessionCookie()] }
    },
    revokeOnSignOut: true,
    logger,
    now: config.now,
  })
  return {
    '/api/voice-token': kit.tokenRoute,
    '/api/sign-out': kit.signOutRoute,
    '/api/sign-out-everywhere': kit.signOutEverywhereRoute,
  }
}

export async function startWebApp(input: AppConfigInput): Promise<WebApp> {
  const config = appConfig(input)
  const logger = createLogger(config.log)
  // The sign-in decoy is hashed before anything opens, so the first unknown email costs no extra hash.
  const passwords = await passwordsWith(config.passwordHasher)
  const db = new AppDb(config.databaseFile, config.now)
  // Expired sessions are refused when read; this also deletes the ones nobody reads again.
  const purge = setInterval(() => db.purgeExpiredSessions(), config.sessionPurgeIntervalMs)
  purge.unref()
  const bundle = await bundleBrowserCode()
  const listVoices = voiceLister(config)
  const pages = { signIn: page('sign-in.html'), speak: page('speak.html'), css: page('style.css') }
  const app = Fastify({ https: config.tls, logger: false, forceCloseConnections: true }) as unknown as FastifyInstance

  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(securityHeaders(config))
  })
  app.addHook('onResponse', async (req, reply) => {
    logger.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode }, 'request')
  })
  const signedIn = (req: FastifyRequest) => userOf(db, req.headers.cookie)
  const html = (reply: FastifyReply, body: string) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body)

  app.get('/', async (req, reply) => reply.redirect(signedIn(req) ? '/speak' : '/sign-in', 303))
  app.get('/sign-in', async (_req, reply) => html(reply, pages.signIn))
  app.get('/speak', async (req, reply) => (signedIn(req) ? html(reply, pages.speak) : reply.redirect('/sign-in', 303)))
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send())
  app.get('/assets/style.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(pages.css))
  // The microphone's AudioWorklet, from this origin (the CSP allows scripts from 'self' only).
  app.get('/assets/capture-worklet.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').send(CAPTURE_WORKLET_SOURCE),
  )
  app.get('/assets/:file', async (req, reply) => {
    const js = bundle.files.get(req.url)
    return js === undefined ? reply.code(404).send() : reply.type('text/javascript; charset=utf-8').send(js)
  })
  app.get('/api/me', async (req, reply) => {
    const user = signedIn(req)
    if (!user)
      return reply
        .code(401)
        .header('cache-control', 'no-store')
        .send({ error_code: 'signed_out', message: 'Sign in first.' })
    const voices = await listVoices().catch((err: unknown) => {
      logger.warn({ reason: err instanceof Error ? err.message : 'unknown' }, 'voice list failed')
      return []
    })
    return reply
      .header('cache-control', 'no-store')
      .send({ email: user.email, mode: config.tokenMode, voice_api_url: config.voicePublicUrl, voices })
  })
  const deps = { config, db, logger, passwords }
  await app.register(
    fastifyRoutes({
      '/api/sign-up': signUpRoute({ ...deps, throttle: new SignUpThrottle(config.signUpLimits, config.now) }),
      '/api/sign-in': signInRoute({ ...deps, throttle: new SignInThrottle(config.signInLimits, config.now) }),
      ...voiceRoutes(config, db, logger),
    }),
  )
  app.setNotFoundHandler(async (_req, reply) =>
    reply.code(404).send({ error_code: 'not_found', message: 'No such page.' }),
  )

  await app.listen({ host: config.host, port: config.port })
  const port = (app.server.address() as AddressInfo).port
  logger.info({ port, mode: config.tokenMode }, 'web app listening')
  return {
    url: `https://localhost:${port}`,
    config,
    async close() {
      clearInterval(purge)
      await app.close()
      db.close()
    },
  }
}
