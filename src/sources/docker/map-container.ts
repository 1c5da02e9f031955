/**
 * Translation at the boundary: the engine's inspect output becomes our `ContainerObservation`.
 * The zod schema picks the few fields we read, so `Config.Env`, mounts and the rest of the
 * inspect document are dropped the moment a response arrives and never reach the model or a log.
 */
import { z } from 'zod'

import {
  CONTAINER_STATES,
  type ContainerHealth,
  type ContainerObservation,
  type ContainerState,
} from '../../model/observations.js'

import {
  COMPOSE_DEPENDS_ON,
  COMPOSE_NUMBER,
  COMPOSE_ONEOFF,
  COMPOSE_SERVICE,
  parseDependsOn,
  parseServiceLabels,
} from './labels.js'

/** Probe output is capped by the engine at 4 KiB; a status message needs far less. */
export const MAX_PROBE_OUTPUT = 1024

/** Restarts remembered per container, newest last; enough for any crash-loop message. */
export const MAX_RESTARTS_KEPT = 100

const stringRecord = z
  .record(z.string(), z.string())
  .nullish()
  .transform((r) => r ?? {})

export const inspectSchema = z
  .object({
    Id: z.string().regex(/^[0-9a-f]{64}$/),
    Name: z.string(),
    Created: z.string().optional(),
    RestartCount: z.number().int().nonnegative().catch(0),
    Config: z
      .object({
        Hostname: z.string().nullish(),
        Labels: stringRecord,
        // Read only to keep them out of probe output (below); never stored, served or logged.
        Env: z.array(z.string()).nullish().catch(null),
        Healthcheck: z
          .object({ Test: z.array(z.string()).nullish() })
          .nullish()
          .catch(null),
      })
      .nullish(),
    State: z.object({
      // An unknown status from a future engine is not a reason to drop the container.
      Status: z.enum(CONTAINER_STATES).catch('dead'),
      OOMKilled: z.boolean().catch(false),
      ExitCode: z.number().int().catch(0),
      StartedAt: z.string().optional(),
      FinishedAt: z.string().optional(),
      Health: z
        .object({
          Status: z.string(),
          FailingStreak: z.number().int().nonnegative().catch(0),
          Log: z
            .array(
              z.object({
                Output: z.string().catch(''),
                ExitCode: z.number().int().nullish().catch(null),
              })
            )
            .nullish()
            .transform((l) => l ?? []),
        })
        .nullish(),
    }),
    NetworkSettings: z
      .object({
        Networks: z
          .record(
            z.string(),
            z
              .object({ IPAddress: z.string().nullish(), GlobalIPv6Address: z.string().nullish() })
              .nullish()
          )
          .nullish(),
      })
      .nullish(),
  })
  // The environment is read only to keep its values out of probe output, then dropped here,
  // the moment the response is parsed: it never reaches an observation, a log or an answer.
  .transform(({ Config, State, ...rest }) => {
    const secrets = secretsOf(Config?.Env ?? [], Config?.Healthcheck?.Test ?? [])
    const health = State.Health && {
      ...State.Health,
      Log: State.Health.Log.map((entry) => ({ ...entry, Output: redact(entry.Output, secrets) })),
    }
    return {
      ...rest,
      Config: { Hostname: Config?.Hostname ?? null, Labels: Config?.Labels ?? {} },
      State: { ...State, Health: health },
    }
  })

/** The part of an inspect response the bridge reads (everything else was never parsed). */
export type InspectInfo = z.infer<typeof inspectSchema>

/** What the source remembers about a container between inspects. */
export interface RestartMemory {
  /** Null until the container was inspected once (only a `restart` event was seen). */
  restartCount: number | null
  restarts: readonly number[]
}

export interface MapOptions {
  now: number
  crashloopWindowMs: number
}

export interface Mapped {
  observation: ContainerObservation
  /** Ignored `health-bridge.*` labels, one line each. */
  labelProblems: string[]
}

/**
 * Maps one inspected container. `prior` is what we knew of it before (undefined the first time we
 * see it), which is how policy restarts are noticed: `RestartCount` went up.
 */
export function mapContainer(
  info: InspectInfo,
  prior: RestartMemory | undefined,
  opts: MapOptions
): Mapped {
  const labels = info.Config.Labels
  const parsed = parseServiceLabels(labels)
  const startedAt = dockerTime(info.State.StartedAt)
  const finishedAt = dockerTime(info.State.FinishedAt)
  const name = info.Name.replace(/^\//, '')
  const number = Number(labels[COMPOSE_NUMBER])
  const observation: ContainerObservation = {
    id: info.Id,
    name,
    service: labels[COMPOSE_SERVICE] ?? name,
    number: Number.isInteger(number) && number >= 0 ? number : null,
    hostname: info.Config.Hostname ?? null,
    oneoff: labels[COMPOSE_ONEOFF]?.toLowerCase() === 'true',
    state: info.State.Status satisfies ContainerState,
    health: healthOf(info.State.Health?.Status),
    failingStreak: info.State.Health?.FailingStreak ?? 0,
    lastProbeOutput: probeOutput(info),
    lastProbeExitCode: lastProbe(info)?.ExitCode ?? null,
    // The engine reports 0 for a container that never exited; FinishedAt tells them apart.
    exitCode: finishedAt === null ? null : info.State.ExitCode,
    oomKilled: info.State.OOMKilled,
    restartCount: info.RestartCount,
    restarts: nextRestarts(prior, info.RestartCount, startedAt, finishedAt, opts),
    createdAt: dockerTime(info.Created),
    startedAt,
    finishedAt,
    labels: parsed.labels,
    dependsOn: parseDependsOn(labels[COMPOSE_DEPENDS_ON]),
    ips: ipsOf(info),
  }
  return { observation, labelProblems: parsed.problems }
}

/**
 * Restarts as timestamps. A policy restart increments `RestartCount` (and shows as die + start,
 * with no `restart` event); a manual `docker start`/`restart` resets it to 0, which is no restart
 * by itself (the source records the `restart` event instead).
 */
export function nextRestarts(
  prior: RestartMemory | undefined,
  restartCount: number,
  startedAt: number | null,
  finishedAt: number | null,
  opts: MapOptions
): number[] {
  const from = opts.now - opts.crashloopWindowMs
  const restarts = [...(prior?.restarts ?? [])]
  if (prior === undefined || prior.restartCount === null) {
    // First sight: the engine does not say when earlier restarts happened; the last start is one.
    if (restartCount > 0 && startedAt !== null) restarts.push(startedAt)
  } else {
    const added = restartCount - prior.restartCount
    if (added > 0) {
      // Several at once happened while we were not looking; they are at least that recent.
      const at = Math.max(startedAt ?? 0, finishedAt ?? 0) || opts.now
      for (let i = 0; i < Math.min(added, MAX_RESTARTS_KEPT); i++) restarts.push(at)
    }
  }
  return restarts
    .filter((t) => t > from)
    .sort((a, b) => a - b)
    .slice(-MAX_RESTARTS_KEPT)
}

/** Epoch ms of an engine timestamp; null for its zero time (`0001-01-01T00:00:00Z`) or garbage. */
export function dockerTime(raw: string | undefined): number | null {
  if (raw === undefined || raw === '' || raw.startsWith('0001-01-01')) return null
  const ms = Date.parse(raw)
  return Number.isNaN(ms) ? null : ms
}

function healthOf(status: string | undefined): ContainerHealth {
  return status === 'starting' || status === 'healthy' || status === 'unhealthy' ? status : 'none'
}

/** The newest entry of `State.Health.Log` (the engine keeps the last five probes, oldest first). */
function lastProbe(info: InspectInfo): { Output: string; ExitCode?: number | null } | undefined {
  const log = info.State.Health?.Log
  return log?.[log.length - 1]
}

/** Values too short to be told from ordinary words are not treated as secrets. */
const MIN_SECRET_CHARS = 4
const SECRET_FLAG = /^(--?(password|passwd|pass|pwd|secret|token|api-?key|auth)|-a|-p)$/i
const SECRET_ASSIGNMENT = /^-{0,2}[\w.-]*(password|passwd|pass|pwd|secret|token|key)[\w.-]*=(.+)$/i

/**
 * What a probe's output must not repeat: the container's environment values (where its
 * passwords usually live) and the arguments of its healthcheck that look like credentials
 * (`--password=x`, `-a x`: a probe that fails often echoes its command line).
 */
function secretsOf(env: readonly string[], test: readonly string[]): string[] {
  const secrets = new Set<string>()
  for (const entry of env) {
    const value = entry.slice(entry.indexOf('=') + 1)
    if (entry.includes('=') && value.length >= MIN_SECRET_CHARS) secrets.add(value)
  }
  const words = test.flatMap((t) => t.split(/\s+/))
  words.forEach((word, i) => {
    const assigned = SECRET_ASSIGNMENT.exec(word)?.[2]
    const next = SECRET_FLAG.test(word) ? words[i + 1] : undefined
    for (const value of [assigned, next]) {
      if (value !== undefined && value.length >= MIN_SECRET_CHARS) secrets.add(value)
    }
  })
  // Longest first, so a secret that contains another is replaced whole.
  return [...secrets].sort((a, b) => b.length - a.length)
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join('<redacted>')
  return out
}

/**
 * The last probe's output as a status message can show it: a progress meter's redraws (curl
 * without -s writes `\r`-separated frames) reduced to their last frame.
 */
function probeOutput(info: InspectInfo): string | null {
  const last = lastProbe(info)
  if (last === undefined) return null
  const text = last.Output.split('\n')
    .map((line) => line.slice(line.lastIndexOf('\r') + 1))
    .join('\n')
    .trim()
  return text.length > MAX_PROBE_OUTPUT ? `${text.slice(0, MAX_PROBE_OUTPUT)}...` : text
}

function ipsOf(info: InspectInfo): string[] {
  const ips = new Set<string>()
  for (const net of Object.values(info.NetworkSettings?.Networks ?? {})) {
    if (net?.IPAddress) ips.add(net.IPAddress)
    if (net?.GlobalIPv6Address) ips.add(net.GlobalIPv6Address)
  }
  return [...ips].sort()
}
