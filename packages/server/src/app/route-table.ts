import type { AppContext } from './app-context.ts'
import type { Feature } from './feature.ts'
import {
  accessTokenFeature,
  consoleFeatures,
  healthFeature,
  operatorFeatures,
  statusFeature,
} from './operations-features.ts'
import { speechFeatures } from './speech-features.ts'
import { OPENAPI_DOCS, registerOpenApiRoute } from '../openapi/route.ts'

/**
 * The route table (hono's `route()` is the model): every feature of the server, in registration
 * order. The app registers these and nothing else (app.ts), the WebSocket router takes their
 * sockets, the guard's access decisions and the OpenAPI document come from their docs, and the
 * tests that enumerate routes read this list. Adding a feature is one module with its routes and
 * docs (docs/development.md, "Adding a feature"), and one line here.
 */
export function appFeatures(ctx: AppContext): readonly Feature[] {
  const features: Feature[] = [
    statusFeature(ctx),
    healthFeature(ctx),
    // The document describes this very list, read when it is first asked for.
    openApiFeature(ctx, () => features),
    accessTokenFeature(ctx),
    ...operatorFeatures(ctx),
    // Local or relayed, the same paths: which was chosen once, by speechFeatures.
    ...speechFeatures(ctx),
    ...consoleFeatures(ctx),
  ]
  return features
}

/** `GET /openapi.json`: the document of the features it is handed. */
function openApiFeature(ctx: AppContext, features: () => readonly Feature[]): Feature {
  return {
    name: 'openapi',
    routes: (app) => registerOpenApiRoute(app, ctx, () => features().flatMap((f) => f.docs)),
    docs: OPENAPI_DOCS,
  }
}
