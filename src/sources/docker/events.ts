/**
 * The container events we subscribe to, and how one line of `/events` becomes one of our events.
 * Only `Action`, `Actor.ID`, `time`/`timeNano` and the `exitCode` attribute of `die` are relied on:
 * API 1.52 dropped the legacy `status`/`id`/`from` fields. `Actor.Attributes` carries every label
 * of the container; only `exitCode` is read from it, so no label is kept or logged.
 */
import { z } from 'zod'

import type { ContainerHealth } from '../../model/observations.js'

import { COMPOSE_PROJECT } from './labels.js'

/**
 * Lifecycle actions only: the healthcheck's `exec_*` noise (three events per probe) must never
 * reach us, and none of these is a prefix of an `exec_*` action (the engine prefix-matches the
 * list once `health_status` is in it, moby#25798).
 */
export const SUBSCRIBED_ACTIONS = [
  'create',
  'start',
  'restart',
  'die',
  'kill',
  'stop',
  'oom',
  'pause',
  'unpause',
  'destroy',
  'rename',
  'update',
  'health_status',
] as const

export type EventAction = (typeof SUBSCRIBED_ACTIONS)[number]

const ACTIONS: ReadonlySet<string> = new Set(SUBSCRIBED_ACTIONS)

/** The `filters` of the `/events` request: evaluated by the engine, so unrelated events never arrive. */
export function eventFilters(project: string): Record<string, string[]> {
  return {
    type: ['container'],
    label: [`${COMPOSE_PROJECT}=${project}`],
    event: [...SUBSCRIBED_ACTIONS],
  }
}

export interface ContainerEvent {
  action: EventAction
  /** Full container id. */
  id: string
  /**
   * Nanoseconds since the epoch, as the engine stamped it. JSON.parse rounds it to ~256 ns, which
   * is still deterministic per line, so it is a sound part of the de-duplication key.
   */
  timeNano: number
  /** Epoch ms of the event. */
  at: number
  /** `die`: the exit code the event reports. */
  exitCode: number | null
  /** `health_status: healthy`: the health the event reports. */
  health: ContainerHealth | null
}

const lineSchema = z.object({
  Type: z.string().optional(),
  Action: z.string().min(1),
  Actor: z.object({
    ID: z.string().regex(/^[0-9a-f]{12,64}$/),
    Attributes: z.object({ exitCode: z.string().optional() }).optional().catch(undefined),
  }),
  time: z.number().nonnegative().optional(),
  timeNano: z.number().nonnegative().optional(),
})

export type ParseResult =
  | { ok: true; event: ContainerEvent }
  | { ok: false; ignored: true; why: string }
  | { ok: false; ignored: false; why: string }

/**
 * Parses one line. `ignored` results are valid events we do not act on (another type or action);
 * the others are garbage. Never throws. `why` never quotes the line: attributes hold labels.
 */
export function parseEventLine(line: string): ParseResult {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    return { ok: false, ignored: false, why: `not JSON (${line.length} chars)` }
  }
  const parsed = lineSchema.safeParse(json)
  if (!parsed.success) {
    const paths = parsed.error.issues.map((i) => i.path.join('.') || '(root)')
    return {
      ok: false,
      ignored: false,
      why: `unexpected shape at ${[...new Set(paths)].join(', ')}`,
    }
  }
  const e = parsed.data
  if (e.Type !== undefined && e.Type !== 'container') {
    return { ok: false, ignored: true, why: `type ${e.Type}` }
  }
  // `health_status: healthy`; other actions may carry a suffix too (`exec_start: sh -c ...`).
  const colon = e.Action.indexOf(':')
  const base = (colon === -1 ? e.Action : e.Action.slice(0, colon)).trim()
  if (!ACTIONS.has(base)) return { ok: false, ignored: true, why: `action ${base}` }
  const timeNano = e.timeNano ?? (e.time ?? 0) * 1e9
  const code = base === 'die' ? Number(e.Actor.Attributes?.exitCode) : NaN
  const suffix = colon === -1 ? '' : e.Action.slice(colon + 1).trim()
  return {
    ok: true,
    event: {
      action: base as EventAction,
      id: e.Actor.ID,
      timeNano,
      at: Math.floor(timeNano / 1e6),
      exitCode: Number.isInteger(code) ? code : null,
      health:
        base === 'health_status' &&
        (suffix === 'healthy' || suffix === 'unhealthy' || suffix === 'starting')
          ? suffix
          : null,
    },
  }
}

/** Identity of an event for de-duplication: a `since` replay repeats events already seen. */
export function eventKey(e: ContainerEvent): string {
  return `${e.timeNano}/${e.id}/${e.action}`
}
