/**
 * The only module that reads the environment (enforced by lint). Everything else receives the
 * typed `Config` that `loadConfig` returns.
 */
import { hostname } from 'node:os'

import { z } from 'zod'

import { ConfigFileError, loadConfigFile, type ServiceConfigs } from './config-file.js'
import { durationSchema, formatDuration } from './duration.js'
import { TokensFileError, loadTokensFile, type ServiceTokens } from './tokens-file.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected a whole number from ${min} to ${max}`)

const token = z
  .string()
  .min(16, 'must be at least 16 characters (use e.g. `openssl rand -hex 24`)')
  .max(512, 'must be at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')

const FLAG_VALUES = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'] as const
const flag = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(FLAG_VALUES, { error: 'expected true or false' }))
  .transform((s) => s === 'true' || s === '1' || s === 'yes' || s === 'on')

const BRIDGE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/

/** The machine's hostname, made into a valid BRIDGE_NAME (a hostname may be longer or dotted). */
function defaultBridgeName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 64)
  return name === '' ? 'bridge' : name
}

/** The environment, as the contract lists it (plus the documented extensions). */
const envSchema = z.object({
  BRIDGE_NAME: z
    .string()
    .regex(BRIDGE_NAME_PATTERN, 'expected 1-64 characters: letters, digits, "_", "." or "-"')
    .optional(),
  PORT: intIn(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
  DOCKER_HOST: z
    .string()
    .regex(
      /^(unix:\/\/\/.+|tcp:\/\/[^/]+|https?:\/\/[^/]+)\/?$/,
      'expected unix:///path/to/docker.sock or tcp://host:port'
    )
    .default('unix:///var/run/docker.sock'),
  DOCKER: z.enum(['auto', 'on', 'off'], { error: 'expected auto, on or off' }).default('auto'),
  COMPOSE_PROJECT_NAME: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]*$/,
      'expected a compose project name (lowercase letters, digits, "_" and "-")'
    )
    .optional(),
  HEARTBEAT_TIMEOUT: durationSchema({ min: 100 }).default(30_000),
  STARTUP_GRACE: durationSchema().optional(),
  HEARTBEAT_TOKEN: token.optional(),
  CRASHLOOP_RESTARTS: intIn(1, 1000).default(2),
  CRASHLOOP_WINDOW: durationSchema({ min: 1000 }).default(15 * 60_000),
  DOCKER_STALE_AFTER: durationSchema().default(10_000),
  DOCKER_GIVE_UP_AFTER: durationSchema().default(120_000),
  MAX_INSTANCES: intIn(1, 1_000_000).default(5000),
  MAX_STREAMS: intIn(0, 100_000).default(100),
  // Input limits (defaults: LIMITS below; bounds keep a typo from disabling a limit).
  MAX_BODY_BYTES: intIn(1024, 1024 * 1024).default(16 * 1024),
  MAX_ERROR_CHARS: intIn(64, 65_536).default(1024),
  MAX_DETAILS_BYTES: intIn(2, 1024 * 1024).default(4 * 1024),
  MAX_DETAILS_DEPTH: intIn(1, 64).default(8),
  // Node server timeouts; at least 1 s, since 0 would mean "never" to Node.
  HEADERS_TIMEOUT: durationSchema({ min: 1000 }).default(10_000),
  REQUEST_TIMEOUT: durationSchema({ min: 1000 }).default(30_000),
  KEEP_ALIVE_TIMEOUT: durationSchema({ min: 100 }).default(5_000),
  CHECK_SENDER_ADDRESS: flag.default(false),
  CONFIG_FILE: z.string().min(1).optional(),
  HEARTBEAT_TOKENS_FILE: z.string().min(1).optional(),
  READ_TOKEN: token.optional(),
  CORS_ORIGINS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== '')
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(
            /^(\*|https?:\/\/[^/\s]+)$/,
            'expected comma-separated origins like https://webui.example:4000, or *'
          )
      )
    )
    .default([]),
})

export type Env = Readonly<Record<string, string | undefined>>

export interface Config {
  /** BRIDGE_NAME: the host name this bridge puts on every instance it observes. */
  bridgeName: string
  port: number
  host: string
  logLevel: (typeof LOG_LEVELS)[number]
  dockerHost: string
  docker: 'auto' | 'on' | 'off'
  composeProjectName: string | null
  heartbeatTimeoutMs: number
  startupGraceMs: number
  heartbeatToken: string | null
  crashloopRestarts: number
  crashloopWindowMs: number
  dockerStaleAfterMs: number
  /** After an outage this long, exit so the restart policy re-mounts a recreated socket. 0 = never. */
  dockerGiveUpAfterMs: number
  maxInstances: number
  /** Cap on concurrently open `GET /health/stream` connections (0 turns the stream off). */
  maxStreams: number
  configFile: string | null
  services: ServiceConfigs
  heartbeatTokensFile: string | null
  /** Per-service heartbeat tokens from HEARTBEAT_TOKENS_FILE; empty when it is unset. */
  serviceTokens: ServiceTokens
  readToken: string | null
  /** CHECK_SENDER_ADDRESS: refuse a heartbeat sent from another service's container address. */
  checkSenderAddress: boolean
  serverTimeouts: ServerTimeouts
  corsOrigins: readonly string[]
  limits: Limits
}

/** Input limits: explicit and documented (docs/security.md); env-configurable within bounds. */
export interface Limits {
  bodyBytes: number
  errorChars: number
  detailsBytes: number
  detailsDepth: number
}

export const LIMITS: Limits = {
  bodyBytes: 16 * 1024,
  errorChars: 1024,
  detailsBytes: 4 * 1024,
  detailsDepth: 8,
}

/** Node HTTP server timeouts: slow clients cannot pin connections. */
export interface ServerTimeouts {
  /** Whole request head (line and headers) must arrive within this. */
  headersTimeoutMs: number
  /** Whole request (head and body) must arrive within this; responses (streams) are not limited. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/**
 * Validates the environment (and CONFIG_FILE) once, at start-up. Throws a ConfigError whose
 * message is one line naming the variable and what it accepts.
 */
export function loadConfig(env: Env = process.env): Config {
  // Compose passes `FOO=${FOO:-}` as an empty string: that means "not set", not "invalid".
  const present: Record<string, string> = {}
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key]
    if (value !== undefined && value.trim() !== '') present[key] = value.trim()
  }
  const parsed = envSchema.safeParse(present)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment')
      const shown =
        present[name] === undefined ? '' : `=${JSON.stringify(redact(name, present[name]))}`
      return `${name}${shown}: ${issue.message}`
    })
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  }
  const e = parsed.data
  let services: ServiceConfigs = {}
  if (e.CONFIG_FILE !== undefined) {
    try {
      services = loadConfigFile(e.CONFIG_FILE)
    } catch (err) {
      if (err instanceof ConfigFileError) throw new ConfigError(`CONFIG_FILE ${err.message}`)
      throw err
    }
  }
  let serviceTokens: ServiceTokens = new Map()
  if (e.HEARTBEAT_TOKENS_FILE !== undefined) {
    try {
      serviceTokens = loadTokensFile(e.HEARTBEAT_TOKENS_FILE)
    } catch (err) {
      if (err instanceof TokensFileError)
        throw new ConfigError(`HEARTBEAT_TOKENS_FILE ${err.message}`)
      throw err
    }
    for (const [service, tokens] of serviceTokens) {
      if (e.HEARTBEAT_TOKEN !== undefined && tokens.includes(e.HEARTBEAT_TOKEN)) {
        throw new ConfigError(
          `HEARTBEAT_TOKENS_FILE ${e.HEARTBEAT_TOKENS_FILE}: the token of service "${service}" equals HEARTBEAT_TOKEN, which any service may use; give the service its own`
        )
      }
    }
  }
  if (e.HEADERS_TIMEOUT > e.REQUEST_TIMEOUT) {
    throw new ConfigError(
      `invalid configuration: HEADERS_TIMEOUT=${formatDuration(e.HEADERS_TIMEOUT)}: must not be longer than REQUEST_TIMEOUT (${formatDuration(e.REQUEST_TIMEOUT)})`
    )
  }
  return {
    bridgeName: e.BRIDGE_NAME ?? defaultBridgeName(),
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    dockerHost: e.DOCKER_HOST,
    docker: e.DOCKER,
    composeProjectName: e.COMPOSE_PROJECT_NAME ?? null,
    heartbeatTimeoutMs: e.HEARTBEAT_TIMEOUT,
    startupGraceMs: e.STARTUP_GRACE ?? e.HEARTBEAT_TIMEOUT,
    heartbeatToken: e.HEARTBEAT_TOKEN ?? null,
    crashloopRestarts: e.CRASHLOOP_RESTARTS,
    crashloopWindowMs: e.CRASHLOOP_WINDOW,
    dockerStaleAfterMs: e.DOCKER_STALE_AFTER,
    dockerGiveUpAfterMs: e.DOCKER_GIVE_UP_AFTER,
    maxInstances: e.MAX_INSTANCES,
    maxStreams: e.MAX_STREAMS,
    configFile: e.CONFIG_FILE ?? null,
    services,
    heartbeatTokensFile: e.HEARTBEAT_TOKENS_FILE ?? null,
    serviceTokens,
    readToken: e.READ_TOKEN ?? null,
    checkSenderAddress: e.CHECK_SENDER_ADDRESS,
    serverTimeouts: {
      headersTimeoutMs: e.HEADERS_TIMEOUT,
      requestTimeoutMs: e.REQUEST_TIMEOUT,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT,
    },
    corsOrigins: e.CORS_ORIGINS,
    limits: {
      bodyBytes: e.MAX_BODY_BYTES,
      errorChars: e.MAX_ERROR_CHARS,
      detailsBytes: e.MAX_DETAILS_BYTES,
      detailsDepth: e.MAX_DETAILS_DEPTH,
    },
  }
}

function redact(name: string, value: string | undefined): string | undefined {
  return name.endsWith('TOKEN') ? '<redacted>' : value
}

/**
 * The URL of the bridge's own `GET /health/live`, for the image's HEALTHCHECK
 * (`dist/healthcheck.js`). It reads only PORT and HOST, so the probe cannot fail on a setting that
 * has nothing to do with liveness; the running process validated everything at start-up.
 */
export function livenessUrl(env: Env = process.env): string {
  const value = (name: 'PORT' | 'HOST') => {
    const v = env[name]?.trim()
    return v === undefined || v === '' ? undefined : v
  }
  const port = envSchema.shape.PORT.safeParse(value('PORT'))
  const host = envSchema.shape.HOST.safeParse(value('HOST'))
  if (!port.success || port.data === 0 || !host.success) {
    throw new ConfigError('invalid configuration: PORT and HOST must name a fixed address to probe')
  }
  // A wildcard listener answers on loopback; a specific address answers only there.
  const h = host.data === '0.0.0.0' || host.data === '::' ? '127.0.0.1' : host.data
  return `http://${h.includes(':') ? `[${h}]` : h}:${port.data}/health/live`
}
