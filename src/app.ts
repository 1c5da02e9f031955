/**
 * `createApp(deps)`: the HTTP face of the bridge. It never listens (tests call `app.request()`);
 * `bridge.ts` serves it.
 */
import { Hono } from 'hono'

import { systemClock, type Clock } from './clock.js'
import type { Config } from './config/config.js'
import { readAuth } from './http/auth.js'
import { cors } from './http/cors.js'
import { HttpError, createErrorHandler } from './http/errors.js'
import { healthRoutes } from './http/routes/health.js'
import { heartbeatRoutes } from './http/routes/heartbeat.js'
import { streamRoutes } from './http/routes/stream.js'
import { StreamHub } from './stream/hub.js'
import { openapiRoutes } from './http/openapi.js'
import { securityHeaders } from './http/security.js'
import type { Logger } from './logger.js'
import { metricsRoutes, requestTimer } from './metrics/http.js'
import { createMetrics, type Metrics } from './metrics/metrics.js'
import { pageRoutes } from './page/routes.js'
import type { HealthStore } from './store/health-store.js'
import { VERSION } from './version.js'

export interface AppDeps {
  store: HealthStore
  config: Pick<
    Config,
    | 'heartbeatToken'
    | 'serviceTokens'
    | 'checkSenderAddress'
    | 'readToken'
    | 'corsOrigins'
    | 'maxStreams'
    | 'limits'
  >
  logger: Logger
  /** Prometheus metrics; when omitted, a registry of this app's own (tests stay isolated). */
  metrics?: Metrics
  clock?: Clock
  /** The open event streams; `bridge.ts` passes its own so shutdown can end them. */
  streams?: StreamHub
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono()
  const onError = createErrorHandler(deps.logger)
  app.onError(onError)
  // Answered, not thrown: Hono calls the not-found handler outside the middleware's error
  // handling, so a throw would skip what the middleware adds after the route (headers).
  app.notFound((c) =>
    onError(
      new HttpError(404, 'not_found', `no route ${c.req.method} ${c.req.path}; see GET /health`),
      c
    )
  )

  const metrics =
    deps.metrics ?? createMetrics({ store: deps.store, clock: deps.clock ?? systemClock })
  // Outermost, so it times (and labels) every answer, errors included.
  app.use('*', requestTimer(metrics))
  app.use('*', securityHeaders(deps.config.corsOrigins))
  // CORS and READ_TOKEN only when configured: each layer is a frame on every request.
  if (deps.config.corsOrigins.length > 0) app.use('*', cors(deps.config.corsOrigins))
  // After CORS (so a browser can read a 401), before every route (deny by default).
  if (deps.config.readToken !== null) app.use('*', readAuth(deps.config.readToken))

  app.route(
    '/',
    heartbeatRoutes({ store: deps.store, config: deps.config, metrics: metrics.heartbeats })
  )
  app.route('/', metricsRoutes(metrics))
  app.route('/', healthRoutes({ store: deps.store }))
  const streams =
    deps.streams ??
    new StreamHub({ source: deps.store, logger: deps.logger, maxStreams: deps.config.maxStreams })
  app.route('/', streamRoutes({ hub: streams }))
  app.route('/', openapiRoutes({ version: VERSION }))
  app.route(
    '/',
    pageRoutes({ store: deps.store, version: VERSION, corsOrigins: deps.config.corsOrigins })
  )

  app.all('/health', (c) => {
    throw new HttpError(
      405,
      'method_not_allowed',
      `${c.req.method} is not allowed on /health; use GET, POST or DELETE`,
      undefined,
      { allow: 'GET, HEAD, POST, DELETE' }
    )
  })
  return app
}
