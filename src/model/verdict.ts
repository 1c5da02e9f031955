import type { Status } from './status.js'

/**
 * One source's judgement of one thing, and until when it holds: `until` is the instant at which
 * the passing of time alone may change it (a heartbeat timeout, a grace end, a restart ageing out
 * of the crash-loop window). The store re-judges at the earliest `until`, so flips are on time.
 */
export interface Verdict {
  status: Status
  message: string
  until: number | null
}

export function verdict(status: Status, message: string, until: number | null = null): Verdict {
  return { status, message, until }
}

/** The earliest of several instants, ignoring nulls. */
export function earliest(...times: (number | null | undefined)[]): number | null {
  let min: number | null = null
  for (const t of times) if (t !== null && t !== undefined && (min === null || t < min)) min = t
  return min
}
