/**
 * What the sources observe, in our own shapes. Sources produce these; the pure judgement in
 * `judge.ts` turns them into statuses. Nothing here knows about dockerode or HTTP.
 */

export const CONTAINER_STATES = [
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
] as const
export type ContainerState = (typeof CONTAINER_STATES)[number]

export const CONTAINER_HEALTHS = ['none', 'starting', 'healthy', 'unhealthy'] as const
export type ContainerHealth = (typeof CONTAINER_HEALTHS)[number]

/** The `health-bridge.*` labels of a container, already parsed and validated. */
export interface ServiceLabels {
  role?: 'job' | 'service'
  critical?: boolean
  jobTimeoutMs?: number
  heartbeat?: boolean
  heartbeatTimeoutMs?: number
  ignore?: boolean
}

/** One entry of `com.docker.compose.depends_on` (`name:condition:restart`). */
export interface DependsOn {
  service: string
  condition: string
}

/** A container of the watched compose project, as the bridge needs it (never env, mounts or full labels). */
export interface ContainerObservation {
  /** Full 64-hex container id. */
  id: string
  /** Container name without the leading slash, e.g. `clp-package-query-scheduler-1`. */
  name: string
  /** `com.docker.compose.service`. */
  service: string
  /** `com.docker.compose.container-number`, when present. */
  number: number | null
  /** `Config.Hostname` (defaults to the short id). */
  hostname: string | null
  /** `com.docker.compose.oneoff=True`: a `docker compose run` container, not part of the service. */
  oneoff: boolean
  state: ContainerState
  health: ContainerHealth
  failingStreak: number
  /** Output of the last healthcheck probe, trimmed; null when there is none. */
  lastProbeOutput: string | null
  /**
   * Exit code of the last healthcheck probe (0: it passed); null when there is none. Docker can
   * say `unhealthy` although the last probe passed: it sets that when the health monitor stops
   * (pause, stop) and keeps it after an unpause until the next probe.
   */
  lastProbeExitCode: number | null
  /** Exit code of the last run; null while it never exited. */
  exitCode: number | null
  oomKilled: boolean
  restartCount: number
  /** Epoch ms of restarts the source saw (policy restarts and explicit ones), newest last. */
  restarts: readonly number[]
  /** Epoch ms; null where Docker reports its zero time. */
  createdAt: number | null
  startedAt: number | null
  finishedAt: number | null
  labels: ServiceLabels
  dependsOn: readonly DependsOn[]
  /** Addresses on the container's networks, for checking who sends a heartbeat. */
  ips: readonly string[]
}

export const DOCKER_STATES = [
  'disabled',
  'connecting',
  'syncing',
  'following',
  'disconnected',
] as const
export type DockerState = (typeof DOCKER_STATES)[number]

/** What the Docker source says about itself; shown under `bridge.sources.docker`. */
export interface DockerSourceStatus {
  state: DockerState
  /** The compose project being watched; null when none (disabled). */
  project: string | null
  /** Epoch ms of the last event received from the engine. */
  lastEventAt: number | null
  /**
   * Epoch ms since when the engine has been unreachable (stream lost or never reached);
   * null while following. Drives DOCKER_STALE_AFTER.
   */
  unreachableSince: number | null
  /** Whether a full list has ever completed; until then Docker-judged state is incomplete. */
  synced: boolean
  /** Short human reason for `disabled` / `disconnected`, e.g. `connect ECONNREFUSED /var/run/docker.sock`. */
  detail: string | null
}

export const DOCKER_DISABLED: DockerSourceStatus = {
  state: 'disabled',
  project: null,
  lastEventAt: null,
  unreachableSince: null,
  synced: false,
  detail: null,
}

/** What a heartbeat reported; `error` always means `unhealthy`. */
export const REPORTED_STATUSES = ['healthy', 'unhealthy', 'succeeded', 'failed'] as const
export type ReportedStatus = (typeof REPORTED_STATUSES)[number]

export interface HeartbeatObservation {
  service: string
  instance: string
  /** Bridge receive time, epoch ms: authoritative for staleness. */
  receivedAt: number
  reported: ReportedStatus
  error: string | null
  details: Record<string, unknown> | null
  /** Sender clock minus bridge clock, in seconds; null when the sender sent no timestamp. */
  clockSkewSeconds: number | null
  /** Remote address of the sender, when known. */
  remoteAddress: string | null
}

export const PEER_STATES = ['connecting', 'syncing', 'following', 'disconnected'] as const
export type PeerState = (typeof PEER_STATES)[number]

/** What the source following one peer bridge says about it; shown under `bridge.sources.peers`. */
export interface PeerStatus {
  name: string
  url: string
  state: PeerState
  /** Epoch ms of the last event (or keep-alive) received from the peer. */
  lastEventAt: number | null
  /** Epoch ms since when the peer is unheard; null while following. Drives PEER_STALE_AFTER. */
  unreachableSince: number | null
  /** Why it is not following (`401 unauthorized`, `invalid document: ...`); never a token. */
  detail: string | null
  /** Whether a whole document was ever received from it. */
  synced: boolean
  /** Epoch ms of the first attempt to reach it (readiness waits PEER_STALE_AFTER from there). */
  triedSince: number
}
