/**
 * What an event says about its container, before an inspect can: the engine stamps `die` with
 * the exit code and `health_status` with the new health, and start, pause and unpause name the
 * new state. Applying that at once takes the engine's own inspect latency (which grows to
 * hundreds of milliseconds while dockerd holds the container's lock) out of the detection path;
 * the inspect that follows still sets every detail (restart counts, probe output).
 */
import type { ContainerObservation } from '../../model/observations.js'

import type { ContainerEvent } from './events.js'

/** The container as the event shows it, or null when the event says nothing an inspect would not. */
export function observedBy(
  event: ContainerEvent,
  last: ContainerObservation
): ContainerObservation | null {
  switch (event.action) {
    case 'start':
    case 'restart':
      return {
        ...last,
        state: 'running',
        startedAt: event.at,
        finishedAt: null,
        // A start resets health to `starting` without an event of its own (moby daemon/health.go).
        health: last.health === 'none' ? 'none' : 'starting',
        failingStreak: 0,
        lastProbeOutput: null,
        lastProbeExitCode: null,
      }
    case 'die':
      return {
        ...last,
        state: 'exited',
        exitCode: event.exitCode ?? last.exitCode,
        finishedAt: event.at,
      }
    case 'oom':
      return { ...last, oomKilled: true }
    case 'pause':
      return { ...last, state: 'paused' }
    case 'unpause':
      return { ...last, state: 'running' }
    case 'health_status':
      if (event.health === null || event.health === last.health) return null
      // The event carries no probe output, and the last one known is from before the change (a
      // passing probe, when it turned unhealthy): shown with the new health it would contradict
      // it, so it is left out until the inspect brings the probe that changed it.
      return {
        ...last,
        health: event.health,
        failingStreak: event.health === 'healthy' ? 0 : last.failingStreak,
        lastProbeOutput: null,
        lastProbeExitCode: null,
      }
    default:
      return null
  }
}
