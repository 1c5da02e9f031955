/**
 * Headers: any Content-Type, any Authorization (with HEARTBEAT_TOKEN and READ_TOKEN set), any
 * body. Only documented codes, 401s carry WWW-Authenticate, refusals change nothing.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { heartbeatBody, validHeartbeat } from './arbitraries.js'
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

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/vnd.api+json',
    'application/merge-patch+json',
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    ' application/json ',
    ';',
    ''
  ),
  fc.string({ maxLength: 60 }),
  fc.constant(undefined)
)

const authorization = fc.oneof(
  fc.constantFrom(
    `Bearer ${HEARTBEAT_TOKEN}`,
    `bearer ${HEARTBEAT_TOKEN}`,
    `Bearer ${READ_TOKEN}`,
    `Basic ${Buffer.from(`x:${READ_TOKEN}`).toString('base64')}`,
    `Bearer  ${HEARTBEAT_TOKEN} `,
    `Bearer ${HEARTBEAT_TOKEN}x`,
    'Bearer bad token!',
    'Bearer',
    'Basic',
    HEARTBEAT_TOKEN,
    ''
  ),
  fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
  fc.string({ maxLength: 80 }),
  fc.constant(undefined)
)

/** Header values a Request can carry: no CR/LF/NUL, no characters beyond Latin-1. */
function headerSafe(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/g, '').trim()
}

function headersOf(entries: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(entries)) {
    const safe = headerSafe(v)
    if (safe !== undefined) out[k] = safe
  }
  return out
}

describe('headers', () => {
  it('POST /health: any Content-Type and Authorization gets a documented answer', async () => {
    const body = fc.oneof(
      validHeartbeat.map((v) => JSON.stringify(v)),
      heartbeatBody
    )
    await fc.assert(
      fc.asyncProperty(contentType, authorization, body, async (type, auth, b) => {
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
    const etag = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('*', 'W/"x"', '"', 'W/', ',')
    )
    const accept = fc.oneof(
      fc.constantFrom('text/html', 'application/json', '*/*'),
      fc.string({ maxLength: 30 })
    )
    await fc.assert(
      fc.asyncProperty(authorization, etag, accept, async (auth, inm, acc) => {
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
