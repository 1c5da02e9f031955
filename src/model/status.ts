/** The status vocabulary (docs/api.md, "Statuses"), and the two rules every status obeys. */
export const STATUSES = ['healthy', 'degraded', 'starting', 'unknown', 'unhealthy'] as const
export type Status = (typeof STATUSES)[number]

// Worst-first order for merging: unhealthy > unknown > starting > degraded > healthy.
const RANK: Record<Status, number> = {
  healthy: 0,
  degraded: 1,
  starting: 2,
  unknown: 3,
  unhealthy: 4,
}

export function rank(status: Status): number {
  return RANK[status]
}

export function worse(a: Status, b: Status): Status {
  return RANK[b] > RANK[a] ? b : a
}

export function worstOf(statuses: Iterable<Status>, empty: Status = 'healthy'): Status {
  let result: Status | undefined
  for (const s of statuses) result = result === undefined ? s : worse(result, s)
  return result ?? empty
}

/** Wherever a status is the answer: healthy and degraded serve, the rest do not. */
export function httpStatusOf(status: Status): 200 | 503 {
  return status === 'healthy' || status === 'degraded' ? 200 : 503
}
