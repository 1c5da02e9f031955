/** Response headers of the page and the API, as a browser receives them. */
import { afterEach, describe, expect, it } from 'vitest'

import { createApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/config.js'
import { HealthStore } from '../../src/store/health-store.js'
import { memoryLogger } from '../helpers/log-sink.js'

const stores: HealthStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

function setup(env: Record<string, string> = {}) {
  const config = loadConfig({ DOCKER: 'off', ...env })
  const { logger } = memoryLogger()
  const store = new HealthStore({ config, clock: { now: () => Date.now() }, logger, version: 't' })
  stores.push(store)
  return createApp({ store, config, logger })
}

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
