/** The HTTP side of metrics: timing every request, and serving `GET /metrics`. */
import { Hono, type MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'

import type { Metrics } from './metrics.js'

/**
 * Times every request, labelled by the route *pattern* that answered (`/health`, `/metrics`),
 * never the raw path: a scanner walking random URLs adds no series. Requests no route matched
 * count as `unmatched`.
 */
export function requestTimer(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now()
    try {
      await next()
    } finally {
      const pattern = routePath(c)
      const route = pattern === '' || pattern === '*' || pattern === '/*' ? 'unmatched' : pattern
      metrics.observeRequest(c.req.method, route, c.res.status, (performance.now() - start) / 1000)
    }
  }
}

export function metricsRoutes(metrics: Metrics): Hono {
  const app = new Hono()
  app.get('/metrics', async (c) =>
    c.body(await metrics.render(), 200, {
      'content-type': metrics.contentType,
      'cache-control': 'no-store',
    })
  )
  return app
}
