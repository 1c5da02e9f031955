import { z } from 'zod'

import { JOB_STATES } from '../model/job.js'
import {
  CONTAINER_HEALTHS,
  CONTAINER_STATES,
  DOCKER_STATES,
  PEER_STATES,
  REPORTED_STATUSES,
} from '../model/observations.js'
import { SERVICE_KINDS } from '../model/settings.js'
import { STATUSES } from '../model/status.js'

const status = z.enum(STATUSES)
const isoTime = z.iso.datetime({ offset: true })

export const dockerPartSchema = z.object({
  containerId: z.string(),
  name: z.string(),
  state: z.enum(CONTAINER_STATES),
  health: z.enum(CONTAINER_HEALTHS),
  failingStreak: z.number().int(),
  exitCode: z.number().int().nullable(),
  oomKilled: z.boolean(),
  restartCount: z.number().int(),
  recentRestarts: z.number().int(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  lastProbeOutput: z.string().nullable(),
})

export const heartbeatPartSchema = z.object({
  /** Whether the service is configured to report heartbeats (label or config file). */
  expected: z.boolean(),
  lastSeenAt: isoTime.nullable(),
  timeoutSeconds: z.number(),
  reported: z.enum(REPORTED_STATUSES).nullable(),
  error: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  clockSkewSeconds: z.number().nullable(),
})

export const instanceSchema = z.object({
  id: z.string(),
  /** The BRIDGE_NAME of the bridge that observed this instance (its host). */
  host: z.string(),
  status,
  message: z.string(),
  docker: dockerPartSchema.nullable(),
  heartbeat: heartbeatPartSchema.nullable(),
})

export const jobSchema = z.object({
  state: z.enum(JOB_STATES),
  exitCode: z.number().int().nullable(),
})

export const serviceSchema = z.object({
  name: z.string(),
  status,
  kind: z.enum(SERVICE_KINDS),
  critical: z.boolean(),
  message: z.string(),
  /** When the service entered its current status (as far as this bridge has seen). */
  since: isoTime,
  flapping: z.boolean(),
  dependsOn: z.array(z.string()),
  impactedBy: z.array(z.string()),
  job: jobSchema.nullable(),
  instances: z.array(instanceSchema),
})

export const dockerSourceSchema = z.object({
  state: z.enum(DOCKER_STATES),
  project: z.string().nullable(),
  lastEventAt: isoTime.nullable(),
  unreachableSince: isoTime.nullable(),
  detail: z.string().nullable(),
})

/** A peer bridge followed by a hub (`PEERS`); never carries its token. */
export const peerSourceSchema = z.object({
  name: z.string(),
  url: z.string(),
  state: z.enum(PEER_STATES),
  lastEventAt: isoTime.nullable(),
  unreachableSince: isoTime.nullable(),
  detail: z.string().nullable(),
})

export const bridgeSchema = z.object({
  /** BRIDGE_NAME: this bridge's host name, as every instance it observes carries in `host`. */
  name: z.string(),
  version: z.string(),
  startedAt: isoTime,
  sources: z.object({
    docker: dockerSourceSchema,
    heartbeat: z.object({ instances: z.number().int() }),
    /** The peers of a hub; empty on a bridge without PEERS. */
    peers: z.array(peerSourceSchema),
  }),
})

export const healthDocumentSchema = z.object({
  status,
  checkedAt: isoTime,
  bridge: bridgeSchema,
  services: z.array(serviceSchema),
})

/**
 * One `event: delta` of `GET /health/stream`: the document's header fields, the whole objects of
 * the services that changed, and the names of the services that disappeared. Applied in order
 * to the first `event: health` document, it gives exactly what `GET /health` serves.
 */
export const healthDeltaSchema = z.object({
  status,
  checkedAt: isoTime,
  bridge: bridgeSchema,
  services: z.array(serviceSchema),
  removed: z.array(z.string()),
})

export type DockerPart = z.infer<typeof dockerPartSchema>
export type HeartbeatPart = z.infer<typeof heartbeatPartSchema>
export type InstanceView = z.infer<typeof instanceSchema>
export type ServiceView = z.infer<typeof serviceSchema>
export type JobView = z.infer<typeof jobSchema>
export type HealthDocument = z.infer<typeof healthDocumentSchema>
export type HealthDelta = z.infer<typeof healthDeltaSchema>
export type PeerSourceView = z.infer<typeof peerSourceSchema>
export type BridgeView = z.infer<typeof bridgeSchema>

/** `GET /health/history` entries, newest first. */
export const transitionSchema = z.object({
  at: isoTime,
  service: z.string(),
  instance: z.string().nullable(),
  from: status.nullable(),
  to: status,
  message: z.string(),
})
export type Transition = z.infer<typeof transitionSchema>

export const readinessSchema = z.object({
  status,
  ready: z.boolean(),
  sources: z.object({
    docker: dockerSourceSchema,
    heartbeat: z.object({ instances: z.number() }),
    peers: z.array(peerSourceSchema),
  }),
})
export type Readiness = z.infer<typeof readinessSchema>
