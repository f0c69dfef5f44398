export { createAppKit, createTokenRoute, createSignOutRoute, clearTokenCookie, type AppKit } from './kit.ts'
export type { AppKitOptions, AppKitLogger, TokenCookieOptions, SignOutResult, VoiceUser } from './options.ts'
export type { TokenSpec, TokenLimits } from './token-spec.ts'
export { FixedWindowLimiter, takeAll, type RateLimit, type FixedWindowLimiterOptions } from './rate-limit.ts'
export { clientAddress, withClientAddress, addressKey } from './client-address.ts'
export type { RouteHandler, TokenRouteBody } from './token-route.ts'
export { guardRequest } from './guard.ts'
export { jwtTimes, type JwtTimes } from './jwt.ts'
export { APP_KIT_ERRORS, AppKitError, RateLimitedError, type AppKitErrorCode, type AppKitErrorBody } from './errors.ts'
export {
  toNodeHandler,
  toWebRequest,
  writeWebResponse,
  type NodeHandler,
  type NodeAdapterOptions,
} from './adapters/node.ts'
export {
  toExpressHandler,
  type ExpressHandler,
  type ExpressLikeRequest,
  type ExpressLikeNext,
} from './adapters/express.ts'
export {
  toFastifyHandler,
  fastifyRoutes,
  type FastifyHandler,
  type FastifyLikeRequest,
  type FastifyLikeReply,
  type FastifyLikeInstance,
} from './adapters/fastify.ts'
