/**
 * Query strings of GET /health, GET /health/history and DELETE /health: only documented codes,
 * never a 5xx, a read never changes state, a refused DELETE neither.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { expectErrorShape, fuzzApp, type FuzzApp } from './harness.js'
import { fuzzParams } from './settings.js'

let h: FuzzApp
beforeAll(async () => {
  h = await fuzzApp()
})
afterAll(() => {
  h.close()
})

const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('service', 'instance', 'format', 'limit') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('servce', 'Service', 'service[]', '', '__proto__', 'constructor'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }
)
const value = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('api', 'worker', 'i1', 'default', 'text', 'json', '10', '1000'),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      '0',
      '1001',
      '-1',
      '1e3',
      '%',
      '%zz',
      '%E0%A4%A',
      '%00',
      '..%2F',
      '%F0%9F%99%82',
      '+',
      'a b'
    ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 200, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 300 }) }
)
const encode = fc.boolean()

/** A query string, each part either percent-encoded or raw (the URL parser copes either way). */
const query = fc.array(fc.tuple(key, value, encode, fc.boolean()), { maxLength: 5 }).map((pairs) =>
  pairs
    .map(([k, v, enc, bare]) => {
      const kk = enc ? encodeURIComponent(k) : k
      if (bare) return kk
      return `${kk}=${enc ? encodeURIComponent(v) : v.replace(/[#&]/g, '')}`
    })
    .join('&')
)

const CASES: { method: string; path: string; allowed: number[] }[] = [
  { method: 'GET', path: '/health', allowed: [200, 400, 404, 503] },
  { method: 'HEAD', path: '/health', allowed: [200, 400, 404, 503] },
  { method: 'GET', path: '/health/history', allowed: [200, 400, 404] },
  { method: 'GET', path: '/health/ready', allowed: [200, 503] },
  { method: 'GET', path: '/health/live', allowed: [200] },
  { method: 'DELETE', path: '/health', allowed: [204, 400, 404] },
]

describe('query strings', () => {
  it('get documented answers, and change nothing unless a DELETE succeeds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CASES), query, async ({ method, path, allowed }, q) => {
        const before = await h.doc()
        const res = await h.request(`${path}?${q}`, { method })
        expect(allowed, `${method} ${path}?${q} -> ${res.status}`).toContain(res.status)
        // 503 is a health answer (the status says unhealthy), not an error.
        if (res.status >= 400 && res.status !== 503 && method !== 'HEAD')
          await expectErrorShape(res)
        else await res.text()
        if (res.status !== 204) expect(await h.doc()).toBe(before)
        expect(h.errors()).toEqual([])
      }),
      fuzzParams(400)
    )
  })
})
