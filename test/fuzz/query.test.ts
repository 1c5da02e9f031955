/**
 * Query strings of GET /health, GET /health/history and DELETE /health: only documented codes,
 * never a 5xx, a read never changes state, a refused DELETE neither.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { QUERY_CASES, query } from './http-arbitraries.js'
import { expectErrorShape, fuzzApp, type FuzzApp } from './harness.js'
import { fuzzParams } from './settings.js'

let h: FuzzApp
beforeAll(async () => {
  h = await fuzzApp()
})
afterAll(() => {
  h.close()
})

describe('query strings', () => {
  it('get documented answers, and change nothing unless a DELETE succeeds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...QUERY_CASES),
        query,
        async ({ method, path, allowed }, q) => {
          const before = await h.doc()
          const res = await h.request(`${path}?${q}`, { method })
          expect(allowed, `${method} ${path}?${q} -> ${res.status}`).toContain(res.status)
          // 503 is a health answer (the status says unhealthy), not an error.
          if (res.status >= 400 && res.status !== 503 && method !== 'HEAD')
            await expectErrorShape(res)
          else await res.text()
          if (res.status !== 204) expect(await h.doc()).toBe(before)
          expect(h.errors()).toEqual([])
        }
      ),
      fuzzParams(400)
    )
  })
})
