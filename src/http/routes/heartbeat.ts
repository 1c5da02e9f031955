/** `POST /health` (a heartbeat) and `DELETE /health` (deregistration), docs/api.md. */
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono, type Context } from 'hono'
import { z } from 'zod'

import type { Config } from '../../config/config.js'
import { instanceNameSchema, serviceNameSchema } from '../../wire/names.js'
import type { ReportedStatus } from '../../model/observations.js'
import type { HealthStore } from '../../store/health-store.js'
import type { HeartbeatMetrics, HeartbeatRejectReason } from '../../metrics/metrics.js'
import {
  heartbeatRequestSchemaFor,
  type HeartbeatAccepted,
  type HeartbeatRequest,
} from '../../wire/heartbeat.js'
import { createHeartbeatAuth, forbidden, senderConflict, type Speaker } from '../auth.js'
import { HttpError, badRequest, issuesOf, notFound } from '../errors.js'
import { readJsonBody } from '../json-body.js'
import { parseQuery } from '../query.js'

export interface HeartbeatRouteDeps {
  store: HealthStore
  config: Pick<Config, 'heartbeatToken' | 'serviceTokens' | 'checkSenderAddress' | 'limits'>
  metrics?: HeartbeatMetrics
}

/** The bounded metrics label of a rejection; `stage` tells bad JSON from a bad heartbeat. */
function rejectReasonOf(err: unknown, stage: 'body' | 'schema'): HeartbeatRejectReason {
  if (!(err instanceof HttpError)) return 'internal_error'
  switch (err.code) {
    case 'invalid_request':
      return stage === 'body' ? 'invalid_json' : 'invalid_schema'
    case 'payload_too_large':
      return 'too_large'
    case 'unsupported_media_type':
    case 'unauthorized':
    case 'forbidden':
    case 'too_many_instances':
      return err.code
    default:
      return 'internal_error'
  }
}

function reportedOf(hb: HeartbeatRequest): ReportedStatus {
  if (hb.status === 'succeeded' || hb.status === 'failed') return hb.status
  // An error always means unhealthy, whatever else the sender claims.
  return hb.error != null || hb.status === 'unhealthy' ? 'unhealthy' : 'healthy'
}

function sentAtOf(timestamp: HeartbeatRequest['timestamp']): number | null {
  if (timestamp === undefined) return null
  return typeof timestamp === 'number' ? timestamp : Date.parse(timestamp)
}

function remoteAddress(c: Parameters<typeof getConnInfo>[0]): string | null {
  try {
    return getConnInfo(c).remote.address ?? null
  } catch {
    // app.request() in tests has no socket behind it.
    return null
  }
}

export const deleteQuerySchema = z.strictObject({
  service: serviceNameSchema,
  instance: instanceNameSchema.optional(),
})

export function heartbeatRoutes(deps: HeartbeatRouteDeps): Hono {
  const { store, config, metrics } = deps
  const auth = createHeartbeatAuth(config)
  const schema = heartbeatRequestSchemaFor(config.limits)
  const app = new Hono()

  app.post('/health', async (c) => {
    let stage: 'body' | 'schema' = 'body'
    try {
      const speaker = auth.authenticate(c.req.header('authorization'))
      const body = await readJsonBody(c, config.limits.bodyBytes)
      stage = 'schema'
      const res = accept(c, speaker, body)
      metrics?.accepted()
      return res
    } catch (err) {
      metrics?.rejected(rejectReasonOf(err, stage))
      throw err
    }
  })

  /** CHECK_SENDER_ADDRESS: 403 when the sender is a container of another service. */
  function checkSender(service: string, sender: string | null): void {
    if (!config.checkSenderAddress) return
    const other = senderConflict(store.containerList(), service, sender)
    if (other !== null) {
      throw forbidden(
        `a request for service "${service}" came from ${sender ?? '?'}, an address of service "${other}" (CHECK_SENDER_ADDRESS)`
      )
    }
  }

  function accept(c: Context, speaker: Speaker, body: unknown): Response {
    const parsed = schema.safeParse(body)
    if (!parsed.success) {
      const issues = issuesOf(parsed.error)
      throw badRequest(
        `the heartbeat is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        issues
      )
    }
    const hb = parsed.data
    auth.authorize(speaker, hb.service)
    const sender = remoteAddress(c)
    checkSender(hb.service, sender)
    const instance = hb.instance ?? 'default'
    const result = store.recordHeartbeat({
      service: hb.service,
      instance,
      reported: reportedOf(hb),
      error: hb.error ?? null,
      details: hb.details ?? null,
      sentAt: sentAtOf(hb.timestamp),
      remoteAddress: sender,
    })
    if (!result.ok) {
      throw new HttpError(
        429,
        'too_many_instances',
        `the bridge already tracks ${result.limit} heartbeat instances (MAX_INSTANCES); existing instances can keep reporting, deregister stale ones with DELETE /health?service=...&instance=...`
      )
    }
    const answer: HeartbeatAccepted = {
      service: hb.service,
      instance,
      status: result.status,
      receivedAt: new Date(result.receivedAt).toISOString(),
      timeoutSeconds: result.timeoutMs / 1000,
    }
    return c.json(answer, 202)
  }

  app.delete('/health', (c) => {
    const speaker = auth.authenticate(c.req.header('authorization'))
    const q = parseQuery(c, deleteQuerySchema)
    auth.authorize(speaker, q.service)
    checkSender(q.service, remoteAddress(c))
    const instance = q.instance ?? 'default'
    if (!store.deleteHeartbeat(q.service, instance)) {
      throw notFound(`no heartbeat instance "${instance}" of service "${q.service}" is registered`)
    }
    return c.body(null, 204)
  })

  return app
}
