/**
 * The only module that reads the environment (enforced by lint). Everything else receives the
 * typed `Config` that `loadConfig` returns. The variables themselves are listed in `env.ts`.
 */
import { readFileSync } from 'node:fs'

import { formatDuration } from '../model/format.js'
import type { Limits } from '../wire/limits.js'

import { ConfigFileError, loadConfigFile, type ServiceConfigs } from './config-file.js'
import { envSchema } from './env.js'
import { defaultBridgeName, type LOG_LEVELS, type PeerConfig } from './env-values.js'
import { TokensFileError, loadTokensFile, type ServiceTokens } from './tokens-file.js'

export type { PeerConfig } from './env-values.js'

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
  /** A container running this long since its last restart is no longer crash-looping. */
  crashloopStableAfterMs: number
  dockerStaleAfterMs: number
  /** After an outage this long, exit so the restart policy re-mounts a recreated socket. 0 = never. */
  dockerGiveUpAfterMs: number
  /** How often the project is listed to catch missed events and a stalled stream. */
  dockerReconcileEveryMs: number
  maxInstances: number
  /** Cap on concurrently open `GET /health/stream` connections (0 turns the stream off). */
  maxStreams: number
  configFile: string | null
  services: ServiceConfigs
  heartbeatTokensFile: string | null
  /** Per-service heartbeat tokens from HEARTBEAT_TOKENS_FILE; empty when it is unset. */
  serviceTokens: ServiceTokens
  readToken: string | null
  /** PEERS: the bridges this one (a hub) follows. */
  peers: readonly PeerConfig[]
  /** PEER_TOKEN: sent to peers as a bearer token (their READ_TOKEN). Never logged. */
  peerToken: string | null
  peerStaleAfterMs: number
  /** PEER_CA_FILE: PEM certificates trusted for https:// peers, besides Node's own store. */
  peerCa: string | null
  /** CHECK_SENDER_ADDRESS: refuse a heartbeat sent from another service's container address. */
  checkSenderAddress: boolean
  serverTimeouts: ServerTimeouts
  corsOrigins: readonly string[]
  limits: Limits
}

/** Node HTTP server timeouts: slow clients cannot pin connections. */
export interface ServerTimeouts {
  /** Whole request head (line and headers) must arrive within this. */
  headersTimeoutMs: number
  /** Whole request (head and body) must arrive within this; responses (streams) are not limited. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number
  /** A connection on which nothing moves (the client takes none of its answer) is closed after this. */
  sendTimeoutMs: number
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
  const bridgeName = e.BRIDGE_NAME ?? defaultBridgeName()
  const peers = e.PEERS ?? []
  if (peers.some((p) => p.name === bridgeName)) {
    throw new ConfigError(
      `invalid configuration: PEERS: a peer is named ${bridgeName}, this bridge's own BRIDGE_NAME; give each bridge its own name`
    )
  }
  let peerCa: string | null = null
  if (e.PEER_CA_FILE !== undefined) {
    try {
      peerCa = readFileSync(e.PEER_CA_FILE, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error'
      throw new ConfigError(`PEER_CA_FILE ${e.PEER_CA_FILE}: cannot read (${code})`)
    }
    if (!peerCa.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(
        `PEER_CA_FILE ${e.PEER_CA_FILE}: expected PEM certificates (-----BEGIN CERTIFICATE-----)`
      )
    }
  }
  if (e.HEADERS_TIMEOUT > e.REQUEST_TIMEOUT) {
    throw new ConfigError(
      `invalid configuration: HEADERS_TIMEOUT=${formatDuration(e.HEADERS_TIMEOUT)}: must not be longer than REQUEST_TIMEOUT (${formatDuration(e.REQUEST_TIMEOUT)})`
    )
  }
  return {
    bridgeName,
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
    crashloopStableAfterMs: e.CRASHLOOP_STABLE_AFTER,
    dockerStaleAfterMs: e.DOCKER_STALE_AFTER,
    dockerGiveUpAfterMs: e.DOCKER_GIVE_UP_AFTER,
    dockerReconcileEveryMs: e.DOCKER_RECONCILE_EVERY,
    maxInstances: e.MAX_INSTANCES,
    maxStreams: e.MAX_STREAMS,
    configFile: e.CONFIG_FILE ?? null,
    services,
    heartbeatTokensFile: e.HEARTBEAT_TOKENS_FILE ?? null,
    serviceTokens,
    readToken: e.READ_TOKEN ?? null,
    peers,
    peerToken: e.PEER_TOKEN ?? null,
    peerStaleAfterMs: e.PEER_STALE_AFTER,
    peerCa,
    checkSenderAddress: e.CHECK_SENDER_ADDRESS,
    serverTimeouts: {
      headersTimeoutMs: e.HEADERS_TIMEOUT,
      requestTimeoutMs: e.REQUEST_TIMEOUT,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT,
      sendTimeoutMs: e.SEND_TIMEOUT,
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
  if (name.endsWith('TOKEN')) return '<redacted>'
  // A URL with user:password@ in PEERS: the error says so without repeating the secret.
  if (name === 'PEERS' && value !== undefined && /\/\/[^/,]*@/.test(value)) return '<redacted>'
  return value
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
