/**
 * `summarize(doc)`: what a status display shows, computed once so every UI tells the same story.
 * Services come worst first; a broken service whose dependency is broken is shown as impacted,
 * with the root cause named, rather than as one more independent failure.
 *
 * It runs in browsers and on the server alike: the bridge's own status page (src/page/, rendered
 * on the server) summarizes with it, as a WebUI using @health-bridge/client does. Pure, no I/O.
 */
import { STATUSES, rank, type Status } from '../model/status.js'
import type { HealthDocument, ServiceView } from './types.js'

/**
 * How a service relates to what is broken:
 * - `root-cause`: unhealthy, and no service it depends on is (the failure starts here);
 * - `impacted`: not healthy, and a service it depends on is unhealthy (probably why);
 * - `at-risk`: healthy so far, but a service it depends on is unhealthy;
 * - `failing`: not healthy for reasons of its own that do not (yet) make it unhealthy
 *   (degraded, starting, unknown);
 * - `ok`: healthy, and so is everything it depends on.
 */
export type ServiceRole = 'root-cause' | 'impacted' | 'at-risk' | 'failing' | 'ok'

export interface ServiceSummary {
  readonly name: string
  readonly status: Status
  readonly kind: ServiceView['kind']
  readonly critical: boolean
  readonly message: string
  /** When it entered its status (ISO-8601). */
  readonly since: string
  readonly flapping: boolean
  readonly role: ServiceRole
  /** The unhealthy services at the bottom of its `impactedBy` chain: what to fix first. */
  readonly rootCauses: readonly string[]
  /** Services that list this one in their `impactedBy` (for a root cause: what it takes down). */
  readonly impacts: readonly string[]
  /** Instances per status, and in all. */
  readonly instances: {
    readonly total: number
    readonly byStatus: Readonly<Record<Status, number>>
  }
  /** The service as the bridge sent it, for everything else. */
  readonly view: ServiceView
}

export interface HealthSummary {
  readonly status: Status
  /** One line a person understands: "database is unhealthy; 3 services impacted". */
  readonly headline: string
  readonly checkedAt: string
  readonly total: number
  /** Services per status. */
  readonly counts: Readonly<Record<Status, number>>
  /** Worst first: by status, root causes before the services they impact, critical first, name. */
  readonly services: readonly ServiceSummary[]
  /** The root causes alone, those that take most down first. */
  readonly rootCauses: readonly ServiceSummary[]
}

function zeroCounts(): Record<Status, number> {
  const counts = {} as Record<Status, number>
  for (const s of STATUSES) counts[s] = 0
  return counts
}

const ROLE_ORDER: Record<ServiceRole, number> = {
  'root-cause': 0,
  failing: 1,
  impacted: 2,
  'at-risk': 3,
  ok: 4,
}

function roleOf(s: ServiceView): ServiceRole {
  if (s.impactedBy.length > 0) return s.status === 'healthy' ? 'at-risk' : 'impacted'
  if (s.status === 'unhealthy') return 'root-cause'
  return s.status === 'healthy' ? 'ok' : 'failing'
}

/** "a", "a and b", "a, b and c", "a, b, c and 2 more". */
export function listNames(names: readonly string[], max = 3): string {
  if (names.length <= 1) return names.join('')
  if (names.length <= max) return `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

export function summarize(doc: HealthDocument): HealthSummary {
  const byName = new Map(doc.services.map((s) => [s.name, s]))
  const impacts = new Map<string, string[]>()
  for (const s of doc.services) {
    for (const cause of s.impactedBy) impacts.set(cause, [...(impacts.get(cause) ?? []), s.name])
  }
  const roles = new Map(doc.services.map((s) => [s.name, roleOf(s)]))

  const services = doc.services.map((s): ServiceSummary => {
    const byStatus = zeroCounts()
    for (const i of s.instances) byStatus[i.status]++
    // The bottom of the chain; in a dependency cycle of broken services there is no bottom,
    // and then every unhealthy dependency is named.
    const deepest = s.impactedBy.filter((d) => roles.get(d) === 'root-cause')
    return {
      name: s.name,
      status: s.status,
      kind: s.kind,
      critical: s.critical,
      message: s.message,
      since: s.since,
      flapping: s.flapping,
      role: roles.get(s.name) ?? 'ok',
      rootCauses: deepest.length > 0 ? deepest : s.impactedBy.filter((d) => byName.has(d)),
      impacts: (impacts.get(s.name) ?? []).sort(),
      instances: { total: s.instances.length, byStatus },
      view: s,
    }
  })
  services.sort(
    (a, b) =>
      rank(b.status) - rank(a.status) ||
      ROLE_ORDER[a.role] - ROLE_ORDER[b.role] ||
      Number(b.critical) - Number(a.critical) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  )
  const rootCauses = services
    .filter((s) => s.role === 'root-cause')
    .sort(
      (a, b) =>
        Number(b.critical) - Number(a.critical) ||
        b.impacts.length - a.impacts.length ||
        (a.name < b.name ? -1 : 1)
    )
  const counts = zeroCounts()
  for (const s of services) counts[s.status]++

  return {
    status: doc.status,
    headline: headlineOf(services, rootCauses, counts),
    checkedAt: doc.checkedAt,
    total: services.length,
    counts,
    services,
    rootCauses,
  }
}

function headlineOf(
  services: readonly ServiceSummary[],
  rootCauses: readonly ServiceSummary[],
  counts: Readonly<Record<Status, number>>
): string {
  const total = services.length
  if (total === 0) return 'No services reported yet'
  if (counts.healthy === total) return `All ${plural(total, 'service')} healthy`
  const parts: string[] = []
  if (rootCauses.length > 0) {
    parts.push(
      `${listNames(rootCauses.map((s) => s.name))} ${rootCauses.length === 1 ? 'is' : 'are'} unhealthy`
    )
    const impacted = services.filter((s) => s.role === 'impacted').length
    if (impacted > 0) parts.push(`${plural(impacted, 'service')} impacted`)
  }
  // Whatever else is not healthy, by name, worst status first.
  const others = services.filter((s) => s.status !== 'healthy' && s.role === 'failing')
  for (const status of [...STATUSES].reverse()) {
    const names = others.filter((s) => s.status === status).map((s) => s.name)
    if (names.length > 0)
      parts.push(`${listNames(names)} ${names.length === 1 ? 'is' : 'are'} ${status}`)
  }
  return `${parts.join('; ')} (${counts.healthy} of ${total} healthy)`
}
