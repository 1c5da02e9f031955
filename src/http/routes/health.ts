/**
 * The read side: `GET /health` (whole; the query form per service and per instance), the typed
 * paths `/health/services/{service}[/instances/{instance}]`, live, ready and history.
 */
import { Hono, type Context } from 'hono'
import { z } from 'zod'

import { instanceRefSchema, serviceNameSchema } from '../../wire/names.js'
import { httpStatusOf, type Status } from '../../model/status.js'
import { instanceEtag } from '../../render/etag.js'
import type { HealthStore } from '../../store/health-store.js'
import { CACHE_CONTROL, conditional } from '../conditional.js'
import { badRequest, notFound } from '../errors.js'
import { parseParams, parseQuery } from '../query.js'

const JSON_TYPE = 'application/json; charset=utf-8'
const TEXT_TYPE = 'text/plain; charset=utf-8'

/**
 * `statusCode=200`: answer 200 whatever the status, for clients (openapi-fetch, most HTTP
 * libraries) that treat every non-2xx answer as an error, while a UI needs an unhealthy
 * document most. Errors (400, 404) stay errors.
 */
const statusCodeSchema = z
  .enum(['health', '200'], {
    error:
      'must be 200 (always answer 200: the status is in the body) or health (the default: 503 unless healthy or degraded)',
  })
  .optional()

/** The query form that orchestrators use: `?service=X[&instance=Y][&format=text]`. */
export const healthQuerySchema = z
  .strictObject({
    service: serviceNameSchema.optional(),
    instance: instanceRefSchema.optional(),
    format: z.enum(['json', 'text'], { error: 'must be json or text' }).optional(),
    statusCode: statusCodeSchema,
  })
  .refine((q) => q.instance === undefined || q.service !== undefined, {
    message: 'instance needs service as well: ?service=X&instance=Y',
    path: ['instance'],
  })

/** `/health/services/{service}[/instances/{instance}]`: JSON only, one shape per path. */
export const typedQuerySchema = z.strictObject({ statusCode: statusCodeSchema })
export const servicePathSchema = z.strictObject({ service: serviceNameSchema })
export const instancePathSchema = z.strictObject({
  service: serviceNameSchema,
  instance: instanceRefSchema,
})

export const historyQuerySchema = z.strictObject({
  service: serviceNameSchema.optional(),
  // A number on the wire's terms (digits only: no `1e3`, no blanks), an integer once parsed.
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
    .optional(),
})

function line(name: string, status: Status, message: string): string {
  return `${name} ${status}: ${message}\n`
}

interface AnswerOptions {
  text: boolean
  /** `statusCode=200`. */
  always200: boolean
}

export function healthRoutes(deps: { store: HealthStore }): Hono {
  const { store } = deps
  const app = new Hono()

  app.get('/health', (c) => {
    // The WebUI's poll has no query: skip parsing on the hottest path.
    if (!c.req.url.includes('?')) return whole(c, store, { text: false, always200: false })
    const q = parseQuery(c, healthQuerySchema)
    const opts = { text: q.format === 'text', always200: q.statusCode === '200' }
    if (q.service === undefined) return whole(c, store, opts)
    if (q.instance === undefined) return serviceAnswer(c, store, q.service, opts)
    return instanceAnswer(c, store, q.service, q.instance, opts)
  })

  app.get('/health/services/:service', (c) => {
    const { service } = parseParams(c, servicePathSchema)
    return serviceAnswer(c, store, service, typedOptions(c))
  })

  app.get('/health/services/:service/instances/:instance', (c) => {
    const { service, instance } = parseParams(c, instancePathSchema)
    return instanceAnswer(c, store, service, instance, typedOptions(c))
  })

  // A liveness probe answers 200 while the process serves, whatever it is asked (a query
  // included): it must never fail for any other reason.
  app.get('/health/live', (c) =>
    c.json({ status: 'healthy' as const }, 200, { 'cache-control': CACHE_CONTROL })
  )

  app.get('/health/ready', (c) => {
    const body = store.readiness()
    return c.json(body, body.ready ? 200 : 503, { 'cache-control': CACHE_CONTROL })
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

function typedOptions(c: Context): AnswerOptions {
  if (c.req.query('format') !== undefined) {
    throw badRequest(
      'format: the typed paths answer JSON only; for one line of text use GET /health?service=X&format=text'
    )
  }
  return { text: false, always200: parseQuery(c, typedQuerySchema).statusCode === '200' }
}

function statusOf(status: Status, opts: AnswerOptions): 200 | 503 {
  return opts.always200 ? 200 : httpStatusOf(status)
}

function whole(c: Context, store: HealthStore, opts: AnswerOptions): Response {
  const r = store.current()
  const status = opts.always200 ? 200 : r.httpStatus
  // Every representation here is drawn only from what the weak ETag covers, so one tag serves
  // both the JSON and the text form (they differ by URL, so caches never mix them).
  if (opts.text) {
    return conditional(c, {
      etag: r.etag,
      status,
      type: TEXT_TYPE,
      body: () =>
        line('overall', r.doc.status, `${r.doc.services.length} services`) +
        r.doc.services.map((s) => line(s.name, s.status, s.message)).join(''),
    })
  }
  return conditional(c, { etag: r.etag, status, type: JSON_TYPE, body: r.body })
}

function serviceAnswer(
  c: Context,
  store: HealthStore,
  name: string,
  opts: AnswerOptions
): Response {
  const svc = knownService(store, name)
  const { view } = svc
  return conditional(c, {
    etag: svc.etag,
    status: statusOf(view.status, opts),
    type: opts.text ? TEXT_TYPE : JSON_TYPE,
    body: opts.text ? () => line(view.name, view.status, view.message) : svc.body,
  })
}

function instanceAnswer(
  c: Context,
  store: HealthStore,
  service: string,
  instance: string,
  opts: AnswerOptions
): Response {
  const svc = knownService(store, service)
  const inst = store.instance(service, instance)
  if (!inst) {
    const ids = svc.view.instances.map((i) => i.id).join(', ') || 'none'
    throw notFound(`service "${service}" has no instance "${instance}" (instances: ${ids})`)
  }
  return conditional(c, {
    etag: instanceEtag(inst),
    status: statusOf(inst.status, opts),
    type: opts.text ? TEXT_TYPE : JSON_TYPE,
    body: opts.text
      ? () => line(`${service}/${inst.id}`, inst.status, inst.message)
      : () => JSON.stringify(inst),
  })
}

function knownService(store: HealthStore, name: string) {
  const svc = store.service(name)
  if (!svc) throw notFound(`no service "${name}" is known; GET /health lists them all`)
  return svc
}
