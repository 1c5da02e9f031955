/**
 * Response headers that make the page and the API hard to misuse from a browser: no MIME
 * sniffing, no framing by strangers, no referrer leaks, no cross-origin embedding.
 *
 * Decisions (docs/security.md has the reasoning):
 * - `Cross-Origin-Resource-Policy: same-origin` only governs *no-cors* requests (`<script>`,
 *   `<img>`, `fetch(..., {mode: 'no-cors'})`); a WebUI on a CORS_ORIGINS origin reads through
 *   CORS (`fetch`, `EventSource`), which CORP does not affect, so it stays working.
 * - Framing: `frame-ancestors 'self'` plus the CORS_ORIGINS origins (the WebUI may embed the
 *   status page); `X-Frame-Options: SAMEORIGIN` for browsers without CSP level 2 (browsers that
 *   know `frame-ancestors` ignore it).
 * - No `Strict-Transport-Security`: the bridge speaks plain HTTP on a compose network; HSTS
 *   belongs to the TLS terminator in front of it, where it cannot pin a whole domain by accident.
 * - A route that sets its own `Content-Security-Policy` (the status page) keeps it; others get
 *   a deny-all policy for JSON and text, and a same-origin one for HTML.
 */
import { ServerResponse } from 'node:http'

import type { HttpBindings } from '@hono/node-server'
import type { Context, MiddlewareHandler } from 'hono'

export function frameAncestors(corsOrigins: readonly string[]): string {
  if (corsOrigins.includes('*')) return '*'
  return ["'self'", ...corsOrigins].join(' ')
}

/** The CSP for HTML pages that did not set their own: everything from this origin only. */
export function pageCsp(corsOrigins: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors(corsOrigins)}`,
  ].join('; ')
}

/** The CSP for everything else (JSON, text, metrics): nothing may run or load. */
export function apiCsp(corsOrigins: readonly string[]): string {
  return `default-src 'none'; frame-ancestors ${frameAncestors(corsOrigins)}`
}

const COMMON: readonly (readonly [string, string])[] = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['x-frame-options', 'SAMEORIGIN'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['x-permitted-cross-domain-policies', 'none'],
]

type Head = Parameters<ServerResponse['writeHead']>[1]
// Always called with the response as `this` (see secureWriteHead).
// eslint-disable-next-line @typescript-eslint/unbound-method
const nodeWriteHead = ServerResponse.prototype.writeHead as (
  this: ServerResponse,
  status: number,
  reason?: string | Head,
  headers?: Head
) => ServerResponse

/** The Node response of a request @hono/node-server serves; absent under `app.request()`. */
function nodeResponse(c: Context): ServerResponse | undefined {
  const out = (c.env as Partial<HttpBindings> | undefined)?.outgoing
  return out instanceof ServerResponse ? out : undefined
}

/**
 * `writeHead` for one response: it sees the final headers as a plain object, so it can tell an
 * HTML answer (page CSP, COOP) without building a web Headers to ask.
 */
function secureWriteHead(page: string) {
  return function writeHead(
    this: ServerResponse,
    status: number,
    reason?: string | Head,
    obj?: Head
  ): ServerResponse {
    let headers = typeof reason === 'string' ? obj : reason
    let html = false
    let csp = false
    let coop = false
    let poweredBy: string | null = null
    if (headers && !Array.isArray(headers)) {
      for (const key in headers) {
        const name = key.toLowerCase()
        if (name === 'content-type') {
          html = String(headers[key]).toLowerCase().startsWith('text/html')
        } else if (name === 'content-security-policy') csp = true
        else if (name === 'cross-origin-opener-policy') coop = true
        else if (name === 'x-powered-by') poweredBy = key
      }
    }
    if (poweredBy !== null && headers && !Array.isArray(headers)) {
      const { [poweredBy]: _dropped, ...rest } = headers
      headers = rest
    }
    this.removeHeader('x-powered-by')
    if (html && !csp) this.setHeader('content-security-policy', page)
    if (html && !coop && !this.hasHeader('cross-origin-opener-policy')) {
      this.setHeader('cross-origin-opener-policy', 'same-origin')
    }
    return typeof reason === 'string'
      ? nodeWriteHead.call(this, status, reason, headers)
      : nodeWriteHead.call(this, status, headers)
  }
}

export function securityHeaders(corsOrigins: readonly string[]): MiddlewareHandler {
  const page = pageCsp(corsOrigins)
  const api = apiCsp(corsOrigins)
  const writeHead = secureWriteHead(page)

  /** The whole rule on the answer's own headers: what the route set wins. */
  const complete = (headers: Headers) => {
    for (const [name, value] of COMMON) if (!headers.has(name)) headers.set(name, value)
    const html = (headers.get('content-type') ?? '').toLowerCase().startsWith('text/html')
    if (!headers.has('content-security-policy')) {
      headers.set('content-security-policy', html ? page : api)
    }
    if (html && !headers.has('cross-origin-opener-policy')) {
      headers.set('cross-origin-opener-policy', 'same-origin')
    }
    headers.delete('x-powered-by')
  }

  return async (c, next) => {
    const out = nodeResponse(c)
    if (out === undefined) {
      await next()
      complete(c.res.headers)
      return
    }
    // On the socket's response, before the route runs: Node writes the route's own headers over
    // these (the page keeps its CSP), and no web Headers is filled, searched or (for a one-header
    // answer like the heartbeat's 202) built per answer, which made a third of a 304's cost.
    for (const [name, value] of COMMON) out.setHeader(name, value)
    out.setHeader('content-security-policy', api)
    out.writeHead = writeHead
    await next()
  }
}
