/** Response headers of the page and the API, as a browser receives them. */
import type { AddressInfo } from 'node:net'

import { serve, type ServerType } from '@hono/node-server'
import { describe, expect, it } from 'vitest'

import { testApp } from '../helpers/app.js'

const setup = (env: Record<string, string> = {}) => testApp(env).app

const WEBUI = 'https://webui.example:4000'

describe('security headers', () => {
  it.each([
    ['GET', '/health'],
    ['GET', '/health?service=nope'],
    ['GET', '/health/live'],
    ['GET', '/metrics'],
    ['GET', '/no-such-path'],
    ['POST', '/health'],
  ])('%s %s carries the API set', async (method, path) => {
    const res = await setup().request(path, { method })
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin')
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'self'"
    )
    // Plain HTTP on a compose network: HSTS belongs to whatever terminates TLS.
    expect(res.headers.get('strict-transport-security')).toBeNull()
    expect(res.headers.get('x-powered-by')).toBeNull()
  })

  it('keeps the page’s own CSP and isolates its browsing context', async () => {
    const res = await setup().request('/', { headers: { accept: 'text/html' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).not.toBe("default-src 'none'; frame-ancestors 'self'")
    expect(csp).toContain("frame-ancestors 'self'")
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('lets the CORS_ORIGINS frame the page and read the API through CORS', async () => {
    const app = setup({ CORS_ORIGINS: WEBUI })
    const page = await app.request('/')
    expect(page.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${WEBUI}`)

    const preflight = await app.request('/health', {
      method: 'OPTIONS',
      headers: {
        origin: WEBUI,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization, if-none-match',
      },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBe(WEBUI)

    const read = await app.request('/health', { headers: { origin: WEBUI } })
    expect(read.headers.get('access-control-allow-origin')).toBe(WEBUI)
    // CORP only governs no-cors loads (<script>, <img>); a CORS read like the one above passes.
    expect(read.headers.get('cross-origin-resource-policy')).toBe('same-origin')
    expect(read.headers.get('content-security-policy')).toBe(
      `default-src 'none'; frame-ancestors 'self' ${WEBUI}`
    )
  })

  it('answers a 401 with the CORS headers a browser needs to read it', async () => {
    const app = setup({ CORS_ORIGINS: WEBUI, READ_TOKEN: 'read-token-0123456789abcdef' })
    const res = await app.request('/health', { headers: { origin: WEBUI } })
    expect(res.status).toBe(401)
    expect(res.headers.get('access-control-allow-origin')).toBe(WEBUI)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })
})

describe('security headers over a real socket', () => {
  // Served by @hono/node-server the headers are set on the Node response, not on the web
  // Response that app.request() returns: both ways must put the same ones on the wire.
  const SECURITY = [
    'x-content-type-options',
    'referrer-policy',
    'x-frame-options',
    'cross-origin-resource-policy',
    'x-permitted-cross-domain-policies',
    'content-security-policy',
    'cross-origin-opener-policy',
    'x-powered-by',
  ]
  const pick = (h: Headers) => Object.fromEntries(SECURITY.map((n) => [n, h.get(n)]))

  it.each([
    ['GET', '/health', {}],
    ['GET', '/health?service=nope', {}],
    ['HEAD', '/health/stream', {}],
    ['GET', '/metrics', {}],
    ['GET', '/no-such-path', {}],
    ['POST', '/health', { 'content-type': 'application/json' }],
    ['GET', '/', { accept: 'text/html' }],
  ] as const)('%s %s: the same as app.request()', async (method, path, headers) => {
    const app = setup({ CORS_ORIGINS: WEBUI })
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
        resolve(s)
      })
    })
    try {
      const { port } = server.address() as AddressInfo
      const init = {
        method,
        headers,
        ...(method === 'POST' ? { body: '{"service":"web"}' } : {}),
      }
      const wire = await fetch(`http://127.0.0.1:${port}${path}`, init)
      await wire.arrayBuffer()
      const local = await app.request(path, init)
      expect(pick(wire.headers)).toEqual(pick(local.headers))
      expect(wire.headers.get('x-content-type-options')).toBe('nosniff')
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})
