import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'

import { conditional, etagMatches, strongTagOf, weakTagOf } from './conditional.js'

describe('conditional GET', () => {
  it('compares weakly, as If-None-Match does: W/ or not, lists, and *', () => {
    const tag = weakTagOf('a')
    expect(tag).toMatch(/^W\/"[A-Za-z0-9_-]{27}"$/)
    expect(strongTagOf('a')).toBe(tag.slice(2))
    expect(etagMatches(tag, tag)).toBe(true)
    expect(etagMatches(tag.slice(2), tag)).toBe(true)
    expect(etagMatches(`"other", ${tag}`, tag)).toBe(true)
    expect(etagMatches('*', tag)).toBe(true)
    expect(etagMatches(weakTagOf('b'), tag)).toBe(false)
    expect(etagMatches(undefined, tag)).toBe(false)
  })

  it('answers 304 without a body (and without making it), keeping the extra headers', async () => {
    let made = 0
    const app = new Hono()
    app.get('/x', (c) =>
      conditional(c, {
        etag: weakTagOf('x'),
        type: 'text/plain; charset=utf-8',
        status: 503,
        body: () => {
          made++
          return 'x'
        },
        headers: { 'content-security-policy': "default-src 'none'" },
      })
    )
    const first = await app.request('/x')
    expect(first.status).toBe(503)
    expect(await first.text()).toBe('x')
    expect(first.headers.get('cache-control')).toBe('no-cache')
    const again = await app.request('/x', {
      headers: { 'if-none-match': first.headers.get('etag') ?? '' },
    })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    expect(again.headers.get('content-security-policy')).toBe("default-src 'none'")
    expect(made).toBe(1)
  })
})
