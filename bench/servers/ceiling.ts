/**
 * The ceiling: a bare @hono/node-server app that does no work of its own and answers what the
 * bridge answered, byte for byte: status, headers (the security headers included) and body.
 * GET /health picks the whole document, its 304, ?service= or ?service=&instance=; POST /health
 * parses the JSON body and answers a 202 of the bridge's shape. Environment: PORT, ANSWERS (a
 * JSON file of recorded answers, see bench/http.ts) and STRIP.
 */
import { readFileSync } from 'node:fs'

import { serve } from '@hono/node-server'
import { Hono } from 'hono'

interface Recorded {
  status: 200 | 202 | 304 | 503
  headers: Record<string, string>
  body: string
}
type Name = 'doc' | 'notModified' | 'service' | 'instance' | 'heartbeat'
const recorded = JSON.parse(readFileSync(process.env.ANSWERS ?? '', 'utf8')) as Record<
  Name,
  Recorded
>
/** With STRIP=1, the answers without the bridge's security headers: what they cost on their own. */
const SECURITY =
  /^(x-content-type-options|referrer-policy|x-frame-options|cross-origin-.*|x-permitted-cross-domain-policies|content-security-policy)$/
const strip = (h: Record<string, string>) =>
  process.env.STRIP === '1'
    ? Object.fromEntries(Object.entries(h).filter(([k]) => !SECURITY.test(k)))
    : h
const answers = new Map(
  Object.entries(recorded).map(([name, a]) => [
    name,
    { ...a, headers: strip(a.headers), bytes: Buffer.from(a.body) },
  ])
)
const answer = (name: Name) => {
  const a = answers.get(name)
  if (!a) throw new Error(`no recorded answer ${name}`)
  return a
}
const etag = answer('doc').headers.etag

const app = new Hono()
app.get('/health', (c) => {
  const a =
    c.req.query('instance') !== undefined
      ? answer('instance')
      : c.req.query('service') !== undefined
        ? answer('service')
        : c.req.header('if-none-match') === etag
          ? answer('notModified')
          : answer('doc')
  if (a.status === 304) return c.body(null, 304, a.headers)
  return c.body(a.bytes, a.status === 503 ? 503 : 200, a.headers)
})
app.post('/health', async (c) => {
  const hb = await c.req.json<{ service: string; instance?: string }>()
  const a = answer('heartbeat')
  const body = {
    service: hb.service,
    instance: hb.instance ?? 'default',
    status: 'healthy',
    receivedAt: new Date().toISOString(),
    timeoutSeconds: 3600,
  }
  return c.body(JSON.stringify(body), 202, a.headers)
})
app.get('/health/live', (c) => c.json({ status: 'healthy' }))

serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' })
