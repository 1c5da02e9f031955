/**
 * The soak's judgements, pure: the fitted RSS slope and whether it is within noise, requests
 * that broke a rule, and the final statuses against what the senders last said and against
 * `docker compose ps`. Each returns problems as sentences; none means pass.
 */
import type { HealthDocument } from '../../src/wire/health-document.js'

import type { SenderState } from './senders.js'
import type { KindTally } from './tally.js'

export interface SlopeFit {
  samples: number
  fromS: number
  toS: number
  meanMiB: number
  /** Least-squares slope, MiB per minute, and its standard error. */
  slopeMiBPerMin: number
  stderrMiBPerMin: number
  /** Standard deviation of the residuals (the GC sawtooth), MiB. */
  residualSdMiB: number
  /** slope x window: what the fit says was gained over the window, MiB. */
  growthMiB: number
  withinNoise: boolean
}

/**
 * Within noise unless all three hold: the slope is more than two standard errors from zero, the
 * growth it implies over the window exceeds twice the residual spread, and exceeds 5 % of the
 * mean. A real leak meets all three on a long run; the sawtooth of a settled heap meets none.
 */
export function fitSlope(points: readonly { t: number; mib: number }[]): SlopeFit {
  const n = points.length
  const mt = points.reduce((a, p) => a + p.t, 0) / n
  const mm = points.reduce((a, p) => a + p.mib, 0) / n
  let sxx = 0
  let sxy = 0
  for (const p of points) {
    sxx += (p.t - mt) ** 2
    sxy += (p.t - mt) * (p.mib - mm)
  }
  const slope = sxx === 0 ? 0 : sxy / sxx // MiB/s
  let sse = 0
  for (const p of points) sse += (p.mib - (mm + slope * (p.t - mt))) ** 2
  const residualSd = Math.sqrt(sse / Math.max(1, n - 2))
  const stderr = sxx === 0 ? Number.POSITIVE_INFINITY : residualSd / Math.sqrt(sxx)
  const fromS = points[0]?.t ?? 0
  const toS = points.at(-1)?.t ?? 0
  const growth = slope * (toS - fromS)
  const significant = slope > 2 * stderr
  return {
    samples: n,
    fromS,
    toS,
    meanMiB: mm,
    slopeMiBPerMin: slope * 60,
    stderrMiBPerMin: stderr * 60,
    residualSdMiB: residualSd,
    growthMiB: growth,
    withinNoise: !(significant && growth > 2 * residualSd && growth > 0.05 * mm),
  }
}

/** Reads whose 503 is a health answer (something is unhealthy), not a server error. */
const READ_KINDS = new Set([
  'poll',
  'poll-service',
  'poll-text',
  'mal-read-headers',
  'mal-query',
  'mal-raw-read',
])

export function requestProblems(kinds: ReadonlyMap<string, KindTally>): string[] {
  const problems: string[] = []
  for (const [kind, t] of kinds) {
    for (const [status, n] of t.statuses) {
      if (status >= 500 && !(status === 503 && READ_KINDS.has(kind)))
        problems.push(`${n} x ${status} on ${kind}`)
      if (kind === 'heartbeat' && status !== 202) problems.push(`${n} x ${status} on heartbeats`)
      if (kind === 'stream' && status !== 200) problems.push(`${n} x ${status} on stream connects`)
      if (kind.startsWith('poll') && ![200, 304, 503].includes(status))
        problems.push(`${n} x ${status} on ${kind}`)
    }
    if (t.networkErrors > 0 && kind !== 'stream')
      problems.push(`${t.networkErrors} requests on ${kind} failed twice at the network level`)
  }
  return problems
}

export interface SenderComparison {
  compared: number
  uncertain: number
  mismatches: string[]
}

/** Every sender's instance has the status its last accepted heartbeat implies. */
export function compareSenders(
  doc: HealthDocument,
  senders: readonly SenderState[]
): SenderComparison {
  const byKey = new Map<string, string>()
  for (const s of doc.services)
    for (const i of s.instances) byKey.set(`${s.name}/${i.id}`, i.status)
  const out: SenderComparison = { compared: 0, uncertain: 0, mismatches: [] }
  for (const s of senders) {
    if (s.lastWord === null || s.uncertain) {
      out.uncertain++
      continue
    }
    out.compared++
    const got = byKey.get(`${s.service}/${s.instance}`)
    if (got !== s.lastWord)
      out.mismatches.push(
        `${s.service}/${s.instance}: said ${s.lastWord}, served ${got ?? 'absent'}`
      )
  }
  return out
}

/** One line of `docker compose ps -a --format json`. */
export interface PsEntry {
  Name: string
  Service: string
  State: string
  Health: string
  ExitCode: number
  ID: string
}

export function parsePs(text: string): PsEntry[] {
  const t = text.trim()
  if (t === '') return []
  // Compose prints one JSON object per line (older versions: one array).
  return t.startsWith('[')
    ? (JSON.parse(t) as PsEntry[])
    : t.split('\n').map((l) => JSON.parse(l) as PsEntry)
}

/** The contract's Docker table, from what compose shows (restarts: as the bridge counted them). */
export function statusFromPs(
  ps: PsEntry,
  kind: 'job' | 'service',
  recentRestarts: number,
  crashloopRestarts: number
): string {
  if (ps.State === 'restarting') return 'unhealthy'
  if (kind === 'job') {
    if (ps.State === 'exited') return ps.ExitCode === 0 ? 'healthy' : 'unhealthy'
    return ps.State === 'running' || ps.State === 'created' ? 'starting' : 'unhealthy'
  }
  if (ps.State === 'created') return 'starting'
  if (ps.State !== 'running') return 'unhealthy'
  if (recentRestarts >= crashloopRestarts) return 'unhealthy'
  if (ps.Health === 'starting') return 'starting'
  return ps.Health === 'unhealthy' ? 'unhealthy' : 'healthy'
}

export interface ComposeRow {
  service: string
  container: string
  psState: string
  psHealth: string
  bridgeState: string
  bridgeHealth: string
  expected: string
  served: string
  ok: boolean
}

export function compareCompose(
  doc: HealthDocument,
  ps: readonly PsEntry[],
  kinds: Readonly<Record<string, 'job' | 'service'>>,
  crashloopRestarts: number
): ComposeRow[] {
  const rows: ComposeRow[] = []
  for (const p of ps) {
    const svc = doc.services.find((s) => s.name === p.Service)
    const inst = svc?.instances.find((i) => i.docker?.name === p.Name)
    const d = inst?.docker
    const expected = statusFromPs(
      p,
      kinds[p.Service] ?? 'service',
      d?.recentRestarts ?? 0,
      crashloopRestarts
    )
    const psHealth = p.Health === '' ? 'none' : p.Health
    rows.push({
      service: p.Service,
      container: p.Name,
      psState: p.State,
      psHealth,
      bridgeState: d?.state ?? 'absent',
      bridgeHealth: d?.health ?? 'absent',
      expected,
      served: inst?.status ?? 'absent',
      ok:
        d !== undefined &&
        d !== null &&
        d.state === p.State &&
        d.health === psHealth &&
        d.containerId.startsWith(p.ID) &&
        inst?.status === expected,
    })
  }
  return rows
}
