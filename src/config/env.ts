/**
 * Every environment variable the bridge reads, in one table: how it is validated, its default,
 * and what it means. This is the one source of their documentation: `npm run docs:env` writes
 * the README's table and `.env.example` from it, and a test fails when they drift.
 */
import { z } from 'zod'

import { LIMITS } from '../wire/limits.js'

import { durationSchema } from './duration.js'
import {
  BRIDGE_NAME_PATTERN,
  LOG_LEVELS,
  corsOriginsSchema,
  flag,
  intIn,
  peersSchema,
  token,
} from './env-values.js'

export const SECTIONS = [
  'this bridge',
  'Docker',
  'heartbeats',
  'per-service settings',
  'access',
  'several hosts',
  'limits',
] as const

export interface Variable<S extends z.ZodType = z.ZodType> {
  section: (typeof SECTIONS)[number]
  schema: S
  /** The default as users write it (`30s`), or what happens when it is unset. */
  shown: string
  /** The value `.env.example` shows: the default, or empty when the default is computed. */
  example: string
  /** What it means, in one sentence or two (markdown; the README table and `.env.example`). */
  doc: string
}

const v = <S extends z.ZodType>(variable: Variable<S>): Variable<S> => variable

export const VARIABLES = {
  BRIDGE_NAME: v({
    section: 'this bridge',
    schema: z
      .string()
      .regex(BRIDGE_NAME_PATTERN, 'expected 1-64 characters: letters, digits, "_", "." or "-"')
      .optional(),
    shown: "the machine's hostname",
    example: '',
    doc: "this bridge's host name: the `host` of every instance it observes, and `bridge.name` (1-64 characters `[A-Za-z0-9_.-]`)",
  }),
  PORT: v({
    section: 'this bridge',
    schema: intIn(0, 65535).default(8080),
    shown: '`8080`',
    example: '8080',
    doc: 'the port to listen on',
  }),
  HOST: v({
    section: 'this bridge',
    schema: z.string().min(1).default('0.0.0.0'),
    shown: '`0.0.0.0`',
    example: '0.0.0.0',
    doc: 'the address to listen on',
  }),
  LOG_LEVEL: v({
    section: 'this bridge',
    schema: z
      .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
      .default('info'),
    shown: '`info`',
    example: 'info',
    doc: `pino level: ${LOG_LEVELS.map((l) => `\`${l}\``).join(', ')}`,
  }),
  DOCKER_HOST: v({
    section: 'Docker',
    schema: z
      .string()
      .regex(
        /^(unix:\/\/\/.+|tcp:\/\/[^/]+|https?:\/\/[^/]+)\/?$/,
        'expected unix:///path/to/docker.sock or tcp://host:port'
      )
      .default('unix:///var/run/docker.sock'),
    shown: '`unix:///var/run/docker.sock`',
    example: 'unix:///var/run/docker.sock',
    doc: 'the engine: a unix socket, or `tcp://host:port` (e.g. a socket proxy)',
  }),
  DOCKER: v({
    section: 'Docker',
    schema: z.enum(['auto', 'on', 'off'], { error: 'expected auto, on or off' }).default('auto'),
    shown: '`auto`',
    example: 'auto',
    doc: '`auto`: use the engine if reachable, else heartbeat-only with a warning, and keep looking for one; `on`: required; `off`',
  }),
  COMPOSE_PROJECT_NAME: v({
    section: 'Docker',
    schema: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]*$/,
        'expected a compose project name (lowercase letters, digits, "_" and "-")'
      )
      .optional(),
    shown: "the bridge's own project in a container",
    example: '',
    doc: 'which compose project to watch',
  }),
  DOCKER_STALE_AFTER: v({
    section: 'Docker',
    schema: durationSchema().default(10_000),
    shown: '`10s`',
    example: '10s',
    doc: 'engine unreachable this long: Docker-judged instances are `unknown`',
  }),
  DOCKER_GIVE_UP_AFTER: v({
    section: 'Docker',
    schema: durationSchema().default(120_000),
    shown: '`2m`',
    example: '2m',
    doc: 'engine unreachable this long: exit 70, so the restart policy re-mounts a socket that dockerd recreated; `0` = never',
  }),
  DOCKER_RECONCILE_EVERY: v({
    section: 'Docker',
    // A list of the project's containers is one cheap request; below 1 s it would be polling.
    schema: durationSchema({ min: 1000 }).default(60_000),
    shown: '`1m`',
    example: '1m',
    doc: 'how often the project is listed to catch what the events stream missed; a change no event reported in 5 s means it stalled: reopened (min `1s`)',
  }),
  CRASHLOOP_RESTARTS: v({
    section: 'Docker',
    schema: intIn(1, 1000).default(2),
    shown: '`2`',
    example: '2',
    doc: 'restarts within `CRASHLOOP_WINDOW` that make a container crash-looping (one restart is forgiven)',
  }),
  CRASHLOOP_WINDOW: v({
    section: 'Docker',
    schema: durationSchema({ min: 1000 }).default(15 * 60_000),
    shown: '`15m`',
    example: '15m',
    doc: 'the sliding window restarts are counted in; they age out by themselves',
  }),
  CRASHLOOP_STABLE_AFTER: v({
    section: 'Docker',
    // Past the start-up of a healthcheck like CLP's (start_period 60s + 3 probes 30s apart =
    // 150s), twice over; a third of the window, so a fix shows well before restarts age out.
    schema: durationSchema({ min: 1000 }).default(5 * 60_000),
    shown: '`5m`',
    example: '5m',
    doc: 'running this long since its last restart ends a crash loop, before the restarts age out of the window',
  }),
  HEARTBEAT_TIMEOUT: v({
    section: 'heartbeats',
    schema: durationSchema({ min: 100 }).default(30_000),
    shown: '`30s`',
    example: '30s',
    doc: 'silence after which an instance is unhealthy',
  }),
  STARTUP_GRACE: v({
    section: 'heartbeats',
    schema: durationSchema().optional(),
    shown: '`HEARTBEAT_TIMEOUT`',
    example: '',
    doc: 'how long expected-but-silent instances count as starting',
  }),
  MAX_INSTANCES: v({
    section: 'heartbeats',
    schema: intIn(1, 1_000_000).default(5000),
    shown: '`5000`',
    example: '5000',
    doc: 'cap on tracked heartbeat instances: a new one beyond it gets `429`, known ones keep reporting',
  }),
  CONFIG_FILE: v({
    section: 'per-service settings',
    schema: z.string().min(1).optional(),
    shown: 'unset',
    example: '',
    doc: 'a YAML file of per-service settings (README, "Configuration")',
  }),
  HEARTBEAT_TOKEN: v({
    section: 'access',
    schema: token.optional(),
    shown: 'unset',
    example: '',
    doc: 'heartbeats (POST/DELETE) need `Authorization: Bearer <token>` (16+ printable characters)',
  }),
  HEARTBEAT_TOKENS_FILE: v({
    section: 'access',
    schema: z.string().min(1).optional(),
    shown: 'unset',
    example: '',
    doc: "a YAML or JSON map `service: token`: a listed service needs its own token (`403` with another's); `service: [old, new]` while rotating",
  }),
  READ_TOKEN: v({
    section: 'access',
    schema: token.optional(),
    shown: 'unset',
    example: '',
    doc: 'read endpoints need `Authorization: Bearer <token>`, or HTTP Basic with the token as password (browsers); `/health/live` and `/openapi.json` stay open',
  }),
  CHECK_SENDER_ADDRESS: v({
    section: 'access',
    schema: flag.default(false),
    shown: '`false`',
    example: 'false',
    doc: "refuse (`403`) a heartbeat sent from the address of another service's container",
  }),
  CORS_ORIGINS: v({
    section: 'access',
    schema: corsOriginsSchema.default([]),
    shown: 'unset',
    example: '',
    doc: 'comma-separated origins allowed to read from a browser, e.g. `http://localhost:4000`',
  }),
  PEERS: v({
    section: 'several hosts',
    schema: peersSchema.optional(),
    shown: 'unset',
    example: '',
    doc: 'makes this bridge a hub: comma-separated `name=url` of the bridges it follows, e.g. `worker-1=http://10.0.0.2:8080` (`http`/`https` only)',
  }),
  PEER_TOKEN: v({
    section: 'several hosts',
    schema: token.optional(),
    shown: 'unset',
    example: '',
    doc: "sent to peers as `Authorization: Bearer <token>` (the peers' `READ_TOKEN`); never logged",
  }),
  PEER_STALE_AFTER: v({
    section: 'several hosts',
    // At least 3 s: the hub asks its peers for a keep-alive every third of it, and they send
    // one at most every second.
    schema: durationSchema({ min: 3000 }).default(10_000),
    shown: '`10s`',
    example: '10s',
    doc: 'a peer unheard this long (no event, no keep-alive) is lost: its instances are `unknown`; at least `3s` (the hub asks its peers for a keep-alive every third of it)',
  }),
  PEER_CA_FILE: v({
    section: 'several hosts',
    schema: z.string().min(1).optional(),
    shown: 'unset',
    example: '',
    doc: "PEM certificates trusted for `https://` peers, besides Node's own trust store",
  }),
  MAX_BODY_BYTES: v({
    section: 'limits',
    schema: intIn(1024, 1024 * 1024).default(LIMITS.bodyBytes),
    shown: `\`${LIMITS.bodyBytes}\``,
    example: String(LIMITS.bodyBytes),
    doc: 'largest heartbeat body, in bytes (1024 to 1048576)',
  }),
  MAX_ERROR_CHARS: v({
    section: 'limits',
    schema: intIn(64, 65_536).default(LIMITS.errorChars),
    shown: `\`${LIMITS.errorChars}\``,
    example: String(LIMITS.errorChars),
    doc: 'longest `error` of a heartbeat, in characters (64 to 65536)',
  }),
  MAX_DETAILS_BYTES: v({
    section: 'limits',
    schema: intIn(2, 1024 * 1024).default(LIMITS.detailsBytes),
    shown: `\`${LIMITS.detailsBytes}\``,
    example: String(LIMITS.detailsBytes),
    doc: 'largest `details` of a heartbeat, serialized, in bytes (2 to 1048576)',
  }),
  MAX_DETAILS_DEPTH: v({
    section: 'limits',
    schema: intIn(1, 64).default(LIMITS.detailsDepth),
    shown: `\`${LIMITS.detailsDepth}\``,
    example: String(LIMITS.detailsDepth),
    doc: 'deepest nesting of `details` (1 to 64)',
  }),
  MAX_STREAMS: v({
    section: 'limits',
    schema: intIn(0, 100_000).default(100),
    shown: '`100`',
    example: '100',
    doc: 'concurrently open `GET /health/stream` connections; beyond it `429 too_many_streams`; `0` turns the stream off',
  }),
  // Node server timeouts; at least 1 s, since 0 would mean "never" to Node.
  HEADERS_TIMEOUT: v({
    section: 'limits',
    schema: durationSchema({ min: 1000 }).default(10_000),
    shown: '`10s`',
    example: '10s',
    doc: 'a request head must arrive within this (slow clients get `408` and are closed)',
  }),
  REQUEST_TIMEOUT: v({
    section: 'limits',
    schema: durationSchema({ min: 1000 }).default(30_000),
    shown: '`30s`',
    example: '30s',
    doc: 'a whole request must arrive within this; responses such as the event stream are not limited',
  }),
  KEEP_ALIVE_TIMEOUT: v({
    section: 'limits',
    schema: durationSchema({ min: 100 }).default(5_000),
    shown: '`5s`',
    example: '5s',
    doc: 'an idle keep-alive connection is closed after this',
  }),
  // More than the event stream's 5 s keep-alive: a stream client that reads is never idle this long.
  SEND_TIMEOUT: v({
    section: 'limits',
    schema: durationSchema({ min: 6000 }).default(30_000),
    shown: '`30s`',
    example: '30s',
    doc: 'a connection on which nothing moves this long (a client that stopped reading its answers or its stream) is closed; at least `6s` (streams send keep-alives)',
  }),
}

export type VariableName = keyof typeof VARIABLES

type Schemas = { [K in VariableName]: (typeof VARIABLES)[K]['schema'] }

function schemas(): Schemas {
  const out: Record<string, z.ZodType> = {}
  for (const [name, variable] of Object.entries(VARIABLES)) out[name] = variable.schema
  return out as Schemas
}

/** The environment: every variable, its default and meaning (the README's table is made from this). */
export const envSchema = z.object(schemas())
