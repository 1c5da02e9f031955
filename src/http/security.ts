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
import type { MiddlewareHandler } from 'hono'

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

export function securityHeaders(corsOrigins: readonly string[]): MiddlewareHandler {
  const common: [string, string][] = [
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
    ['x-frame-options', 'SAMEORIGIN'],
    ['cross-origin-resource-policy', 'same-origin'],
    ['x-permitted-cross-domain-policies', 'none'],
  ]
  const page = pageCsp(corsOrigins)
  const api = apiCsp(corsOrigins)
  return async (c, next) => {
    await next()
    const headers = c.res.headers
    for (const [name, value] of common) if (!headers.has(name)) headers.set(name, value)
    const html = (headers.get('content-type') ?? '').toLowerCase().startsWith('text/html')
    if (!headers.has('content-security-policy')) {
      headers.set('content-security-policy', html ? page : api)
    }
    if (html && !headers.has('cross-origin-opener-policy')) {
      headers.set('cross-origin-opener-policy', 'same-origin')
    }
    headers.delete('x-powered-by')
  }
}
