/**
 * The heartbeat API's writes: the instance limit, a report recorded and how urgently it must
 * reach the document (a new instance or a changed status now, bookkeeping later), the status the
 * `202` answers with, and deregistration.
 */
import type { Logger } from '../logger.js'
import { judgeHeartbeat } from '../model/judge-heartbeat.js'
import { judgeReport } from '../model/judge-report.js'
import type { HeartbeatObservation, ReportedStatus } from '../model/observations.js'
import type { ServiceContext } from '../model/service-context.js'
import { serviceSettings } from '../model/service-settings.js'
import type { Status } from '../model/status.js'

import type { DirtyServices } from './dirty.js'
import type { ObservationIndex } from './observations.js'

export interface HeartbeatInput {
  service: string
  instance: string
  reported: ReportedStatus
  error: string | null
  details: Record<string, unknown> | null
  /** Sender's timestamp (epoch ms), if it sent one: only used for clock skew. */
  sentAt: number | null
  remoteAddress: string | null
}

export type RecordResult =
  | { ok: true; status: Status; receivedAt: number; timeoutMs: number; created: boolean }
  | { ok: false; reason: 'too_many_instances'; limit: number }

export interface HeartbeatIntakeDeps {
  index: ObservationIndex
  dirty: DirtyServices
  /** MAX_INSTANCES: heartbeat instances at most, over every service. */
  maxInstances: number
  context: (now: number) => ServiceContext
  log: Logger
}

function observation(input: HeartbeatInput, now: number): HeartbeatObservation {
  return {
    service: input.service,
    instance: input.instance,
    receivedAt: now,
    reported: input.reported,
    error: input.error,
    details: input.details,
    clockSkewSeconds: input.sentAt === null ? null : Math.round(input.sentAt - now) / 1000,
    remoteAddress: input.remoteAddress,
  }
}

export class HeartbeatIntake {
  constructor(private readonly deps: HeartbeatIntakeDeps) {}

  record(input: HeartbeatInput, now: number): RecordResult {
    const { index, dirty, log } = this.deps
    const old = index.heartbeat(input.service, input.instance)
    const limit = this.deps.maxInstances
    if (!old && index.heartbeatInstances >= limit) {
      return { ok: false, reason: 'too_many_instances', limit }
    }
    const hb = observation(input, now)
    const touched = new Set<string>()
    index.setHeartbeat(hb, touched)
    const ctx = this.deps.context(now)
    const containers = [...(index.service(input.service)?.containers.values() ?? [])]
    const settings = serviceSettings(input.service, containers, ctx)
    const timeoutMs = settings.heartbeatTimeoutMs
    if (!old) {
      log.info({ service: hb.service, instance: hb.instance }, 'heartbeat instance registered')
      dirty.mark(touched, 'now')
    } else {
      const before = judgeHeartbeat(old, timeoutMs, now)
      const after = judgeHeartbeat(hb, timeoutMs, now)
      // Same status and message: only bookkeeping (lastSeenAt, details) moved; no need to hurry.
      const same =
        before.status === after.status &&
        before.message === after.message &&
        old.reported === hb.reported
      dirty.mark(touched, same ? 'lazy' : 'now')
    }
    // By the rules the document uses, so the 202 agrees with GET /health about this instance.
    const status = judgeReport(hb, containers, settings, ctx, now).status
    return { ok: true, status, receivedAt: now, timeoutMs, created: !old }
  }

  delete(service: string, instance: string): boolean {
    const touched = new Set<string>()
    if (!this.deps.index.deleteHeartbeat(service, instance, touched)) return false
    this.deps.log.info({ service, instance }, 'heartbeat instance deregistered')
    this.deps.dirty.mark(touched, 'now')
    return true
  }
}
