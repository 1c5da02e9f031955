/**
 * The labels a container carries that mean something to the bridge: compose's own, and the
 * `health-bridge.*` ones users set (README, "Configuration"). Everything else a
 * label says stays in the engine.
 */
import { parseDuration } from '../../config/duration.js'
import type { DependsOn, ServiceLabels } from '../../model/observations.js'

export const COMPOSE_PROJECT = 'com.docker.compose.project'
export const COMPOSE_SERVICE = 'com.docker.compose.service'
export const COMPOSE_NUMBER = 'com.docker.compose.container-number'
export const COMPOSE_ONEOFF = 'com.docker.compose.oneoff'
export const COMPOSE_DEPENDS_ON = 'com.docker.compose.depends_on'

const PREFIX = 'health-bridge.'

type Labels = Readonly<Record<string, string>>

export interface ParsedLabels {
  labels: ServiceLabels
  /** One line per label that was ignored, e.g. `health-bridge.critical="yes": expected true or false`. */
  problems: string[]
}

const bool = (v: string): boolean | undefined =>
  v === 'true' ? true : v === 'false' ? false : undefined

const duration = (v: string): number | undefined => {
  const ms = parseDuration(v)
  return ms !== undefined && ms > 0 ? ms : undefined
}

interface Rule {
  expected: string
  /** Stores the parsed value; false when the value is not acceptable. */
  apply: (labels: ServiceLabels, value: string) => boolean
}

const rule = <T>(
  expected: string,
  parse: (value: string) => T | undefined,
  assign: (labels: ServiceLabels, value: T) => void
): Rule => ({
  expected,
  apply: (labels, value) => {
    const parsed = parse(value)
    if (parsed === undefined) return false
    assign(labels, parsed)
    return true
  },
})

const RULES: Readonly<Record<string, Rule>> = {
  role: rule(
    'job or service',
    (v) => (v === 'job' || v === 'service' ? v : undefined),
    (l, v) => (l.role = v)
  ),
  critical: rule('true or false', bool, (l, v) => (l.critical = v)),
  'job-timeout': rule('a duration such as 10m', duration, (l, v) => (l.jobTimeoutMs = v)),
  heartbeat: rule('true or false', bool, (l, v) => (l.heartbeat = v)),
  'heartbeat-timeout': rule(
    'a duration such as 45s',
    duration,
    (l, v) => (l.heartbeatTimeoutMs = v)
  ),
  ignore: rule('true or false', bool, (l, v) => (l.ignore = v)),
}

/** Reads the `health-bridge.*` labels; a bad value is left out and reported, never fatal. */
export function parseServiceLabels(all: Labels): ParsedLabels {
  const labels: ServiceLabels = {}
  const problems: string[] = []
  for (const [key, raw] of Object.entries(all)) {
    if (!key.startsWith(PREFIX)) continue
    const name = key.slice(PREFIX.length)
    const r = Object.hasOwn(RULES, name) ? RULES[name] : undefined
    const shown = JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}...` : raw)
    if (r === undefined) {
      problems.push(`${key}: unknown label (known: ${Object.keys(RULES).join(', ')})`)
      continue
    }
    if (!r.apply(labels, raw.trim().toLowerCase())) {
      problems.push(`${key}=${shown}: expected ${r.expected}`)
    }
  }
  return { labels, problems }
}

/**
 * Parses `com.docker.compose.depends_on`: `db:service_healthy:false,init:service_completed_successfully:true`.
 * Compose writes `name:condition:restart` (pkg/compose/create.go: `d.Condition, d.Restart`): the
 * third field is depends_on's `restart` option, not `required`, which the label never records
 * (compose itself reads it back as true). Older compose versions write only `name:condition`.
 */
export function parseDependsOn(raw: string | undefined): DependsOn[] {
  if (raw === undefined) return []
  const out: DependsOn[] = []
  const seen = new Set<string>()
  for (const entry of raw.split(',')) {
    const [service = '', condition = ''] = entry.trim().split(':')
    if (service === '' || seen.has(service)) continue
    seen.add(service)
    out.push({ service, condition: condition === '' ? 'service_started' : condition })
  }
  return out
}
