/** `POST /health` (a heartbeat) and `DELETE /health` (deregistration), per the contract. */
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono } from 'hono'
import { z } from 'zod'

import type { Config } from '../../config/config.js'
import { instanceNameSchema, serviceNameSchema } from '../../config/names.js'
import type { ReportedStatus } from '../../model/observations.js'
import type { HealthStore } from '../../state/health-store.js'
import {
  heartbeatRequestSchema,
  type HeartbeatAccepted,
  type HeartbeatRequest,
} from '../../wire/heartbeat.js'
import { requireBearer } from '../auth.js'
import { HttpError, badRequest, issuesOf, notFound } from '../errors.js'
import { readJsonBody } from '../json-body.js'
import { parseQuery } from '../query.js'

export interface HeartbeatRouteDeps {
  store: HealthStore
  config: Pick<Config, 'heartbeatToken' | 'limits'>
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

const deleteQuerySchema = z.strictObject({
  service: serviceNameSchema,
  instance: instanceNameSchema.optional(),
})

export function heartbeatRoutes(deps: HeartbeatRouteDeps): Hono {
  const { store, config } = deps
  const tokens = config.heartbeatToken === null ? null : [config.heartbeatToken]
  const app = new Hono()

  app.post('/health', async (c) => {
    if (tokens) requireBearer(c.req.header('authorization'), tokens, 'heartbeats')
    const body = await readJsonBody(c, config.limits.bodyBytes)
    const parsed = heartbeatRequestSchema.safeParse(body)
    if (!parsed.success) {
      const issues = issuesOf(parsed.error)
      throw badRequest(
        `the heartbeat is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        issues
      )
    }
    const hb = parsed.data
    const instance = hb.instance ?? 'default'
    const result = store.recordHeartbeat({
      service: hb.service,
      instance,
      reported: reportedOf(hb),
      error: hb.error ?? null,
      details: hb.details ?? null,
      sentAt: sentAtOf(hb.timestamp),
      remoteAddress: remoteAddress(c),
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
  })

  app.delete('/health', (c) => {
    if (tokens) requireBearer(c.req.header('authorization'), tokens, 'heartbeats')
    const q = parseQuery(c, deleteQuerySchema)
    const instance = q.instance ?? 'default'
    if (!store.deleteHeartbeat(q.service, instance)) {
      throw notFound(`no heartbeat instance "${instance}" of service "${q.service}" is registered`)
    }
    return c.body(null, 204)
  })

  return app
}
