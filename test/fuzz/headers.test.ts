/**
 * Headers: any Content-Type, any Authorization (with HEARTBEAT_TOKEN and READ_TOKEN set), any
 * body. Only documented codes, 401s carry WWW-Authenticate, refusals change nothing.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { heartbeatBody, validHeartbeat } from './arbitraries.js'
import { accept, authorization, contentType, headersOf, ifNoneMatch } from './http-arbitraries.js'
import { expectErrorShape, fuzzApp, type FuzzApp } from './harness.js'
import { fuzzParams } from './settings.js'

const HEARTBEAT_TOKEN = 'fuzz-heartbeat-token-0123456789'
const READ_TOKEN = 'fuzz-read-token-0123456789abcd'

let h: FuzzApp
beforeAll(async () => {
  h = await fuzzApp({ HEARTBEAT_TOKEN, READ_TOKEN })
})
afterAll(() => {
  h.close()
})

const authorizationHeader = authorization(HEARTBEAT_TOKEN, READ_TOKEN)

describe('headers', () => {
  it('POST /health: any Content-Type and Authorization gets a documented answer', async () => {
    const body = fc.oneof(
      validHeartbeat.map((v) => JSON.stringify(v)),
      heartbeatBody
    )
    await fc.assert(
      fc.asyncProperty(contentType, authorizationHeader, body, async (type, auth, b) => {
        const before = await h.doc()
        const res = await h.request('/health', {
          method: 'POST',
          headers: headersOf({ 'content-type': type, authorization: auth }),
          body: b,
        })
        expect([202, 400, 401, 413, 415, 429], `status ${res.status}`).toContain(res.status)
        if (res.status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /)
        if (res.status !== 202) {
          await expectErrorShape(res)
          expect(await h.doc()).toBe(before)
        } else {
          await res.text()
        }
        expect(h.errors()).toEqual([])
      }),
      fuzzParams(300)
    )
  })

  it('GET /health: any Authorization, If-None-Match and Accept gets a documented answer', async () => {
    await fc.assert(
      fc.asyncProperty(authorizationHeader, ifNoneMatch, accept, async (auth, inm, acc) => {
        const before = await h.doc()
        const res = await h.request('/health', {
          headers: headersOf({ authorization: auth, 'if-none-match': inm, accept: acc }),
        })
        expect([200, 304, 401, 503], `status ${res.status}`).toContain(res.status)
        if (res.status === 401) {
          expect(res.headers.get('www-authenticate')).toMatch(
            /^(Bearer|Basic) realm="health-bridge"/
          )
          await expectErrorShape(res)
        } else {
          await res.text()
        }
        expect(await h.doc()).toBe(before)
      }),
      fuzzParams(200)
    )
  })
})
