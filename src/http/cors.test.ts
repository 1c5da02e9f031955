import { describe, expect, it } from 'vitest'

import { testApp } from '../../test/helpers/app.js'

import { PREFLIGHT_MAX_AGE_SECONDS } from './cors.js'

const WEBUI = 'http://webui.example:4000'
const setup = (env: Record<string, string> = {}) => testApp(env).app

const preflight = (method: string, origin = WEBUI) => ({
  method: 'OPTIONS',
  headers: {
    origin,
    'access-control-request-method': method,
    'access-control-request-headers': 'if-none-match',
  },
})

describe('CORS', () => {
  it('adds nothing when CORS_ORIGINS is not set', async () => {
    const app = setup()
    const res = await app.request('/health', { headers: { origin: WEBUI } })
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    const pre = await app.request('/health', preflight('GET'))
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('lets a configured origin read /health, its ETag and its 304s', async () => {
    const app = setup({ CORS_ORIGINS: `${WEBUI}, https://other.example` })
    const res = await app.request('/health', { headers: { origin: WEBUI } })
    expect(res.headers.get('access-control-allow-origin')).toBe(WEBUI)
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag')
    expect(res.headers.get('vary')).toContain('Origin')
    const etag = res.headers.get('etag') ?? ''
    const again = await app.request('/health', {
      headers: { origin: WEBUI, 'if-none-match': etag },
    })
    expect(again.status).toBe(304)
    expect(again.headers.get('access-control-allow-origin')).toBe(WEBUI)
    // Errors are readable too, so the WebUI can show what is wrong.
    const missing = await app.request('/health?service=nope', { headers: { origin: WEBUI } })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('access-control-allow-origin')).toBe(WEBUI)
  })

  it('answers the preflight of a read (If-None-Match makes one) with the headers a reader sends', async () => {
    const app = setup({ CORS_ORIGINS: WEBUI })
    const res = await app.request('/health', preflight('GET'))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(WEBUI)
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD')
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'if-none-match'
    )
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'last-event-id'
    )
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'authorization'
    )
    expect(res.headers.get('access-control-max-age')).toBe(String(PREFLIGHT_MAX_AGE_SECONDS))
  })

  it('never opens heartbeats or deregistration to browsers, even from a configured origin', async () => {
    const app = setup({ CORS_ORIGINS: WEBUI })
    for (const method of ['POST', 'DELETE']) {
      const pre = await app.request('/health', preflight(method))
      expect(pre.status).toBe(204)
      expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    }
    const post = await app.request('/health', {
      method: 'POST',
      headers: { origin: WEBUI, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'api' }),
    })
    expect(post.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('refuses origins that are not listed, exactly (no prefix or suffix tricks)', async () => {
    const app = setup({ CORS_ORIGINS: WEBUI })
    for (const origin of ['http://evil.example', `${WEBUI}.evil.example`, 'http://webui.example']) {
      const res = await app.request('/health', { headers: { origin } })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
      const pre = await app.request('/health', preflight('GET', origin))
      expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    }
  })

  it('with *, lets any origin read (no credentials involved)', async () => {
    const app = setup({ CORS_ORIGINS: '*' })
    const res = await app.request('/health/stream', {
      method: 'HEAD',
      headers: { origin: 'http://anywhere.example' },
    })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
  })
})
