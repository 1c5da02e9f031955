import { clockTime, formatDuration } from './format.js'

import type { HeartbeatObservation } from './observations.js'
import { verdict, type Verdict } from './verdict.js'

/** How many timeouts a silent, containerless instance is kept before it is forgotten. */
export const FORGET_AFTER_TIMEOUTS = 10

export function isTerminal(hb: HeartbeatObservation): boolean {
  return hb.reported === 'succeeded' || hb.reported === 'failed'
}

/** The heartbeat table of docs/api.md, for one instance that has reported. */
export function judgeHeartbeat(hb: HeartbeatObservation, timeoutMs: number, now: number): Verdict {
  // A job's end is final: it stops reporting afterwards, and that silence is not a failure.
  if (hb.reported === 'succeeded') return verdict('healthy', 'completed successfully')
  if (hb.reported === 'failed') return verdict('unhealthy', hb.error ?? 'reported failed')
  const staleAt = hb.receivedAt + timeoutMs
  if (now >= staleAt) {
    return verdict(
      'unhealthy',
      `no heartbeat for more than ${formatDuration(timeoutMs)} (last at ${clockTime(hb.receivedAt)})`
    )
  }
  if (hb.reported === 'unhealthy') {
    return verdict('unhealthy', hb.error ?? 'reported unhealthy', staleAt)
  }
  return verdict('healthy', 'heartbeating', staleAt)
}

/** When a silent instance with no container behind it is dropped; null for terminal reports. */
export function forgetAt(hb: HeartbeatObservation, timeoutMs: number): number | null {
  return isTerminal(hb) ? null : hb.receivedAt + timeoutMs * (1 + FORGET_AFTER_TIMEOUTS)
}

/** An instance (or a service) expected to heartbeat that has not yet. */
export function judgeMissingHeartbeat(graceStart: number, graceMs: number, now: number): Verdict {
  const graceEnd = graceStart + graceMs
  if (now < graceEnd) return verdict('starting', 'waiting for the first heartbeat', graceEnd)
  return verdict(
    'unhealthy',
    `no heartbeat received (expected within ${formatDuration(graceMs)} of start)`
  )
}
