/**
 * `createApp(deps)`: the HTTP face of the bridge. It never listens (tests call `app.request()`);
 * `bridge.ts` serves it.
 */
import { Hono } from 'hono'

import type { Config } from './config/config.js'
import { HttpError, createErrorHandler } from './http/errors.js'
import { healthRoutes } from './http/routes/health.js'
import { heartbeatRoutes } from './http/routes/heartbeat.js'
import type { Logger } from './logger.js'
import type { HealthStore } from './state/health-store.js'

export interface AppDeps {
  store: HealthStore
  config: Pick<Config, 'heartbeatToken' | 'limits'>
  logger: Logger
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono()
  app.onError(createErrorHandler(deps.logger))
  app.notFound((c) => {
    throw new HttpError(404, 'not_found', `no route ${c.req.method} ${c.req.path}; see GET /health`)
  })

  app.route('/', heartbeatRoutes({ store: deps.store, config: deps.config }))
  app.route('/', healthRoutes({ store: deps.store }))

  app.all('/health', (c) => {
    throw new HttpError(405, 'method_not_allowed', `${c.req.method} is not allowed on /health; use GET, POST or DELETE`, undefined, { allow: 'GET, HEAD, POST, DELETE' })
  })
  return app
}
