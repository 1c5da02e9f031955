/** The wire types, as the bridge's own zod schemas define them (types only: no zod at run time). */
export type { Status } from '../model/status.js'
export type {
  BridgeView,
  DockerPart,
  HealthDelta,
  HealthDocument,
  HeartbeatPart,
  InstanceView,
  JobView,
  PeerSourceView,
  Readiness,
  ServiceView,
  Transition,
} from '../wire/health-document.js'
export type { ErrorBody, ErrorCode } from '../wire/error.js'
export type { HeartbeatAccepted, HeartbeatRequest } from '../wire/heartbeat.js'
