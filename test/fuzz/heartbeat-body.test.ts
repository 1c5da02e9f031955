/**
 * POST /health with any body: only documented codes, never a 5xx, a rejected heartbeat changes
 * nothing (GET /health byte-identical), and the instance count never passes MAX_INSTANCES.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { DEFAULT_HISTORY } from '../../src/store/history.js'
import { heartbeatAcceptedSchema } from '../../src/wire/heartbeat.js'

import { heartbeatBody } from './arbitraries.js'
import { MAX_INSTANCES, expectErrorShape, fuzzApp, type FuzzApp } from './harness.js'
import { fuzzParams } from './settings.js'

let h: FuzzApp
beforeAll(async () => {
  h = await fuzzApp()
})
afterAll(() => {
  h.close()
})

const DOCUMENTED = new Set([202, 400, 413, 429])

describe('POST /health bodies', () => {
  it('answers only documented codes and changes nothing when it refuses', async () => {
    await fc.assert(
      fc.asyncProperty(heartbeatBody, async (body) => {
        const before = await h.doc()
        const res = await h.request('/health', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
        expect(DOCUMENTED.has(res.status), `status ${res.status}`).toBe(true)
        if (res.status === 202) {
          heartbeatAcceptedSchema.parse(await res.json())
        } else {
          await expectErrorShape(res)
          expect(await h.doc()).toBe(before)
        }
        // Memory stays bounded: instances by MAX_INSTANCES, history by its ring.
        expect(h.store.heartbeatInstances()).toBeLessThanOrEqual(MAX_INSTANCES)
        expect(h.store.transitions().length).toBeLessThanOrEqual(DEFAULT_HISTORY.capacity)
        expect(h.errors()).toEqual([])
      }),
      fuzzParams(300)
    )
  })
})
