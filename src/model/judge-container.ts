import { clockTime, formatDuration } from './format.js'

import type { ContainerObservation, DockerSourceStatus } from './observations.js'
import type { ModelConfig, ServiceSettings } from './settings.js'
import { earliest, verdict, type Verdict } from './verdict.js'

/** Docker-judged state is only as good as the connection: past DOCKER_STALE_AFTER it is unknown. */
export function dockerStaleness(
  docker: DockerSourceStatus,
  config: ModelConfig,
  now: number
): { stale: Verdict | null; until: number | null } {
  if (docker.unreachableSince === null || docker.state === 'following') {
    return { stale: null, until: null }
  }
  const staleAt = docker.unreachableSince + config.dockerStaleAfterMs
  if (now < staleAt) return { stale: null, until: staleAt }
  return {
    stale: verdict(
      'unknown',
      `docker engine unreachable since ${clockTime(docker.unreachableSince)}`
    ),
    until: null,
  }
}

/** Restarts inside the sliding window; they age out by themselves, also with no event. */
export function recentRestarts(
  c: ContainerObservation,
  config: ModelConfig,
  now: number
): { count: number; agesOutAt: number | null } {
  const from = now - config.crashloopWindowMs
  let count = 0
  let oldest: number | null = null
  for (const t of c.restarts) {
    if (t > from && t <= now) {
      count++
      if (oldest === null || t < oldest) oldest = t
    }
  }
  return { count, agesOutAt: oldest === null ? null : oldest + config.crashloopWindowMs }
}

/**
 * Whether a container is crash-looping: CRASHLOOP_RESTARTS restarts inside the window, unless it
 * has run CRASHLOOP_STABLE_AFTER since the last of them (the cause was fixed). `upSince` is set
 * while a running container is still within that time, and `stableAt` is when it will be past it.
 */
function crashLoop(
  c: ContainerObservation,
  config: ModelConfig,
  now: number
): { looping: boolean; upSince: number | null; stableAt: number | null } {
  const notLooping = { looping: false, upSince: null, stableAt: null }
  if (recentRestarts(c, config, now).count < config.crashloopRestarts) return notLooping
  if (c.state !== 'running' || c.startedAt === null) {
    return { looping: true, upSince: null, stableAt: null }
  }
  // Up since its last start, or its last recorded restart if that came later (`docker restart`).
  let upSince = c.startedAt
  for (const t of c.restarts) if (t <= now && t > upSince) upSince = t
  const stableAt = upSince + config.crashloopStableAfterMs
  return now >= stableAt ? notLooping : { looping: true, upSince, stableAt }
}

/** The crash-loop verdict, or null when the container is not crash-looping. */
function crashLoopVerdict(
  c: ContainerObservation,
  config: ModelConfig,
  now: number
): Verdict | null {
  const loop = crashLoop(c, config, now)
  if (!loop.looping) return null
  const restarts = recentRestarts(c, config, now)
  // No ever-changing numbers: since when it is up, not for how long.
  const up = loop.upSince === null ? '' : ` (up since ${clockTime(loop.upSince)})`
  return verdict(
    'unhealthy',
    `crash-looping: ${restarts.count} restarts in ${formatDuration(config.crashloopWindowMs)}${up}`,
    earliest(restarts.agesOutAt, loop.stableAt)
  )
}

function exitText(c: ContainerObservation): string {
  const code = c.exitCode === null ? '' : ` with code ${c.exitCode}`
  return `${code}${c.oomKilled ? ' (OOM killed)' : ''}`
}

function probeText(c: ContainerObservation): string {
  // Docker sets `unhealthy` when the health monitor stops (pause) and keeps it after an unpause
  // until its next probe: quoting the last probe, which passed, would contradict the status.
  if (c.lastProbeExitCode === 0) {
    return "healthcheck unhealthy; the last probe passed (waiting for Docker's next probe)"
  }
  const streak = c.failingStreak > 0 ? ` (${c.failingStreak} in a row)` : ''
  const output =
    c.lastProbeOutput === null || c.lastProbeOutput === '' ? '' : `: ${c.lastProbeOutput}`
  return `healthcheck failing${streak}${output}`
}

/** The Docker table of docs/api.md, for one container (staleness is applied by the caller). */
export function judgeContainer(
  c: ContainerObservation,
  settings: ServiceSettings,
  config: ModelConfig,
  now: number
): Verdict {
  const restarts = recentRestarts(c, config, now)
  const crash = crashLoopVerdict(c, config, now)
  const job = settings.kind === 'job'
  switch (c.state) {
    case 'created':
      return verdict('starting', 'created, not started')
    case 'paused':
      return verdict('unhealthy', 'paused', restarts.agesOutAt)
    case 'restarting':
      return (
        crash ??
        verdict('unhealthy', `restarting after it exited${exitText(c)}`, restarts.agesOutAt)
      )
    case 'exited':
    case 'dead':
    case 'removing':
      if (job) {
        return c.exitCode === 0
          ? verdict('healthy', 'completed successfully')
          : verdict(
              'unhealthy',
              `failed with exit code ${c.exitCode ?? 'unknown'}${c.oomKilled ? ' (OOM killed)' : ''}`
            )
      }
      return verdict('unhealthy', c.state === 'dead' ? 'dead' : `exited${exitText(c)}`)
    case 'running': {
      if (crash) return crash
      if (job) {
        const hungAt =
          settings.jobTimeoutMs !== null && c.startedAt !== null
            ? c.startedAt + settings.jobTimeoutMs
            : null
        if (hungAt !== null && now >= hungAt) {
          return verdict(
            'unhealthy',
            `still running after ${formatDuration(settings.jobTimeoutMs ?? 0)} (hung?)`
          )
        }
        return verdict('starting', 'running', earliest(hungAt, restarts.agesOutAt))
      }
      const until = restarts.agesOutAt
      switch (c.health) {
        case 'none':
          return verdict('healthy', 'running', until)
        case 'starting':
          return verdict('starting', 'healthcheck starting', until)
        case 'healthy':
          return verdict('healthy', 'healthcheck passing', until)
        case 'unhealthy':
          return verdict('unhealthy', probeText(c), until)
      }
    }
  }
}

/** The job's lifecycle as the WebUI names it. */
export function jobStateOf(
  c: Pick<ContainerObservation, 'state' | 'exitCode'>
): 'pending' | 'running' | 'succeeded' | 'failed' {
  switch (c.state) {
    case 'created':
      return 'pending'
    case 'running':
    case 'restarting':
    case 'paused':
      return 'running'
    default:
      return c.exitCode === 0 ? 'succeeded' : 'failed'
  }
}
