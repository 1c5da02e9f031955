/**
 * The ceiling the bridge is compared against: a bare @hono/node-server app that does no work of
 * its own. GET /health answers pre-rendered bytes (the same bytes and headers the bridge served,
 * a 304 for a matching If-None-Match, the same service object for ?service=); POST /health parses
 * the JSON body and discards it, answering a 202 of the same shape the bridge answers.
 *
 * Environment: PORT, DOC_FILE, DOC_ETAG, DOC_STATUS, SERVICE_FILE, SERVICE_ETAG.
 */
import { readFileSync } from 'node:fs'

import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const env = process.env
const port = Number(env.PORT)
const doc = readFileSync(env.DOC_FILE ?? '/dev/null', 'utf8')
const etag = env.DOC_ETAG ?? 'W/"none"'
const docStatus = env.DOC_STATUS === '503' ? 503 : 200
const serviceBody = readFileSync(env.SERVICE_FILE ?? '/dev/null', 'utf8')
const serviceEtag = env.SERVICE_ETAG
const JSON_TYPE = 'application/json; charset=utf-8'

const app = new Hono()
app.get('/health', (c) => {
  if (c.req.query('service') !== undefined) {
    return c.body(serviceBody, 200, {
      'content-type': JSON_TYPE,
      'cache-control': 'no-cache',
      ...(serviceEtag === undefined ? {} : { etag: serviceEtag }),
    })
  }
  const headers = { etag, 'cache-control': 'no-cache' }
  if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers)
  return c.body(doc, docStatus, { ...headers, 'content-type': JSON_TYPE })
})
app.post('/health', async (c) => {
  const hb = await c.req.json<{ service?: string; instance?: string }>()
  return c.json(
    {
      service: hb.service,
      instance: hb.instance ?? 'default',
      status: 'healthy',
      receivedAt: new Date().toISOString(),
      timeoutSeconds: 30,
    },
    202
  )
})
app.get('/health/live', (c) => c.json({ status: 'healthy' }))

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' })
