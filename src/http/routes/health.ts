/** The read side: `GET /health` (whole, per service, per instance), live, ready and history. */
import { Hono, type Context } from 'hono'
import { z } from 'zod'

import { instanceNameSchema, serviceNameSchema } from '../../config/names.js'
import { httpStatusOf, type Status } from '../../model/status.js'
import { instanceEtagOf, type HealthStore } from '../../state/health-store.js'
import type { Readiness } from '../../wire/health-document.js'
import { CACHE_CONTROL, conditional } from '../conditional.js'
import { notFound } from '../errors.js'
import { parseQuery } from '../query.js'

const JSON_TYPE = 'application/json; charset=utf-8'
const TEXT_TYPE = 'text/plain; charset=utf-8'

export const healthQuerySchema = z
  .strictObject({
    service: serviceNameSchema.optional(),
    instance: instanceNameSchema.optional(),
    format: z.enum(['json', 'text'], { error: 'must be json or text' }).optional(),
  })
  .refine((q) => q.instance === undefined || q.service !== undefined, {
    message: 'instance needs service as well: ?service=X&instance=Y',
    path: ['instance'],
  })

export const historyQuerySchema = z.strictObject({
  service: serviceNameSchema.optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
    .optional(),
})

function line(name: string, status: Status, message: string): string {
  return `${name} ${status}: ${message}\n`
}

export function healthRoutes(deps: { store: HealthStore }): Hono {
  const { store } = deps
  const app = new Hono()

  app.get('/health', (c) => {
    // The WebUI's poll has no query: skip parsing on the hottest path.
    if (!c.req.url.includes('?')) return whole(c, store, false)
    const q = parseQuery(c, healthQuerySchema)
    if (q.service === undefined) return whole(c, store, q.format === 'text')

    const svc = store.service(q.service)
    if (!svc) throw notFound(`no service "${q.service}" is known; GET /health lists them all`)
    if (q.instance !== undefined) {
      const inst = store.instance(q.service, q.instance)
      if (!inst) {
        throw notFound(
          `service "${q.service}" has no instance "${q.instance}" (instances: ${svc.view.instances.map((i) => i.id).join(', ') || 'none'})`
        )
      }
      const status = httpStatusOf(inst.status)
      const etag = instanceEtagOf(inst)
      if (q.format === 'text') {
        return conditional(c, {
          etag,
          status,
          type: TEXT_TYPE,
          body: () => line(`${q.service}/${inst.id}`, inst.status, inst.message),
        })
      }
      return conditional(c, { etag, status, type: JSON_TYPE, body: () => JSON.stringify(inst) })
    }
    const status = httpStatusOf(svc.view.status)
    if (q.format === 'text') {
      return conditional(c, {
        etag: svc.etag,
        status,
        type: TEXT_TYPE,
        body: () => line(svc.view.name, svc.view.status, svc.view.message),
      })
    }
    return conditional(c, { etag: svc.etag, status, type: JSON_TYPE, body: svc.body })
  })

  app.get('/health/live', (c) =>
    c.json({ status: 'healthy' as const }, 200, { 'cache-control': CACHE_CONTROL })
  )

  app.get('/health/ready', (c) => {
    const docker = store.current().doc.bridge.sources.docker
    const ready = docker.state === 'following' || docker.state === 'disabled'
    const status: Status = ready
      ? 'healthy'
      : docker.state === 'disconnected'
        ? 'unhealthy'
        : 'starting'
    const body: Readiness = {
      status,
      ready,
      sources: { docker, heartbeat: { instances: store.heartbeatInstances() }, peers: [] },
    }
    return c.json(body, ready ? 200 : 503, { 'cache-control': CACHE_CONTROL })
  })

  app.get('/health/history', (c) => {
    const q = parseQuery(c, historyQuerySchema)
    if (
      q.service !== undefined &&
      !store.service(q.service) &&
      store.transitions(q.service, 1).length === 0
    ) {
      throw notFound(`no service "${q.service}" is known`)
    }
    return c.json(store.transitions(q.service, q.limit), 200, { 'cache-control': CACHE_CONTROL })
  })

  return app
}

function whole(c: Context, store: HealthStore, text: boolean): Response {
  const r = store.current()
  // Every representation here is drawn only from what the weak ETag covers, so one tag serves
  // both the JSON and the text form (they differ by URL, so caches never mix them).
  if (text) {
    return conditional(c, {
      etag: r.etag,
      status: r.httpStatus,
      type: TEXT_TYPE,
      body: () =>
        line('overall', r.doc.status, `${r.doc.services.length} services`) +
        r.doc.services.map((s) => line(s.name, s.status, s.message)).join(''),
    })
  }
  return conditional(c, { etag: r.etag, status: r.httpStatus, type: JSON_TYPE, body: r.body })
}
