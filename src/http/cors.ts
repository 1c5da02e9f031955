/**
 * CORS for the read side only. A browser page on one of `CORS_ORIGINS` may read (GET/HEAD) what
 * the bridge serves, including the ETag it needs for cheap polling; heartbeats and
 * deregistration stay closed to browsers (senders are services, and a page that could POST
 * could fake a stack's health). With no origins configured this adds nothing at all.
 */
import type { MiddlewareHandler } from 'hono'

const ALLOWED_METHODS = 'GET, HEAD'
/** Request headers a reader sends: bearer auth (READ_TOKEN), revalidation, SSE resume. */
const ALLOWED_HEADERS = 'Authorization, If-None-Match, Last-Event-ID, Cache-Control'
/** Response headers a page may read beyond the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'ETag, Retry-After'
/** How long a browser may cache a preflight (Chromium caps this at 2 h anyway). */
export const PREFLIGHT_MAX_AGE_SECONDS = 600

function isReadMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD'
}

export function cors(origins: readonly string[]): MiddlewareHandler {
  // Not configured: a pass-through, not one more async frame on every request.
  if (origins.length === 0) return (_c, next) => next()
  const any = origins.includes('*')
  const allowed = new Set(origins.map((o) => o.toLowerCase()))
  const allowOrigin = (origin: string | undefined): string | null => {
    if (origin === undefined) return null
    if (any) return '*'
    return allowed.has(origin.toLowerCase()) ? origin : null
  }

  return async (c, next): Promise<Response | undefined> => {
    const origin = c.req.header('origin')
    const requested = c.req.header('access-control-request-method')
    if (c.req.method === 'OPTIONS' && requested !== undefined) {
      // A preflight: answered here, never by a route. Refusal is simply the absence of the
      // Access-Control-* headers, which the browser reports to the page's developer.
      const headers: Record<string, string> = { vary: 'Origin' }
      const ok = allowOrigin(origin)
      if (ok !== null && isReadMethod(requested.toUpperCase())) {
        headers['access-control-allow-origin'] = ok
        headers['access-control-allow-methods'] = ALLOWED_METHODS
        headers['access-control-allow-headers'] = ALLOWED_HEADERS
        headers['access-control-max-age'] = String(PREFLIGHT_MAX_AGE_SECONDS)
      }
      return c.body(null, 204, headers)
    }
    await next()
    if (!any) c.res.headers.append('vary', 'Origin')
    const ok = allowOrigin(origin)
    if (ok !== null && isReadMethod(c.req.method)) {
      c.res.headers.set('access-control-allow-origin', ok)
      c.res.headers.set('access-control-expose-headers', EXPOSED_HEADERS)
    }
    return undefined
  }
}
