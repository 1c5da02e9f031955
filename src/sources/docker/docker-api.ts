/**
 * The engine, narrowed to the read-only GETs the bridge needs: `/version`, `/events`,
 * `/containers/json` and `/containers/{id}/json` (a socket proxy may also allow `/_ping`; we do
 * not need it: the once-a-minute list is the liveness check). The source and its tests depend on
 * the `DockerApi` interface only; `DockerodeApi` is the one implementation that talks to a socket.
 */
import { statSync } from 'node:fs'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { Readable } from 'node:stream'

import Docker from 'dockerode'
import { z } from 'zod'

import { SourceError } from '../errors.js'

import { COMPOSE_PROJECT } from './labels.js'
import { inspectSchema, type InspectInfo } from './map-container.js'

export interface EngineInfo {
  /** Engine version, e.g. `20.10.24`. */
  version: string
  /** The API version every later request is pinned to, e.g. `1.41`. */
  apiVersion: string
}

export interface ContainerSummary {
  id: string
  state: string
}

export interface EventsQuery {
  /** Unix seconds; the engine replays buffered events from then on. */
  since: number
  filters: Record<string, string[]>
}

export interface DockerApi {
  /** The engine's address as configured, for messages. */
  readonly address: string
  /** Unversioned `GET /version`; pins the negotiated API version for every later call. */
  negotiate(signal: AbortSignal): Promise<EngineInfo>
  /** Opens `GET /events`; resolves once the response headers arrived. The stream has no idle timeout. */
  events(query: EventsQuery, signal: AbortSignal): Promise<Readable>
  /** All containers (any state) carrying the project's compose label. */
  listContainers(project: string, signal: AbortSignal): Promise<ContainerSummary[]>
  /** One container by id or name; null when the engine does not know it (404). */
  inspectContainer(idOrName: string, signal: AbortSignal): Promise<InspectInfo | null>
  /**
   * True when the unix socket this bridge connects to was removed, yet its path still resolves:
   * a bind mount of a socket file that dockerd deleted when it stopped (live-restore, an upgrade).
   * That mount can never reach the engine's new socket; only a restart of the container can.
   */
  socketRemoved(): boolean
}

export type DockerErrorKind = 'unreachable' | 'timeout' | 'http' | 'version' | 'protocol'

/** A failed engine call, with a one-line message fit for a log line and the status `detail`. */
export class DockerApiError extends SourceError {
  override readonly name = 'DockerApiError'
  constructor(
    message: string,
    readonly kind: DockerErrorKind,
    readonly statusCode: number | null = null,
    options?: ErrorOptions
  ) {
    super(message, options)
  }
}

/** The newest API whose changes to the five endpoints we use have been reviewed (Engine 29.0). */
export const CLIENT_MAX_API = '1.52'
/** `State.Health` in inspect and `Actor` in events exist from here on. */
export const CLIENT_MIN_API = '1.24'

const versionSchema = z.object({
  Version: z.string(),
  ApiVersion: z.string().regex(/^\d+\.\d+$/),
  MinAPIVersion: z
    .string()
    .regex(/^\d+\.\d+$/)
    .optional(),
})

const summariesSchema = z.array(z.object({ Id: z.string(), State: z.string().catch('') }))

/** Names and ids the engine accepts in `/containers/{id}/json`; anything else never reaches a URL. */
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/

export function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number)
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number)
  return aMajor - bMajor || aMinor - bMinor
}

/**
 * What the Go client and docker-java do: the lower of our newest and the engine's newest,
 * raised to the engine's minimum (Engine 29 refuses anything below 1.44; Engine 20.10 offers
 * at most 1.41, so no single pinned version serves both).
 */
export function negotiateApiVersion(engineMax: string, engineMin: string | undefined): string {
  if (compareApiVersions(engineMax, CLIENT_MIN_API) < 0) {
    throw new DockerApiError(
      `engine API ${engineMax} is older than ${CLIENT_MIN_API}, the oldest health-bridge supports`,
      'version'
    )
  }
  let chosen = compareApiVersions(engineMax, CLIENT_MAX_API) < 0 ? engineMax : CLIENT_MAX_API
  if (engineMin !== undefined && compareApiVersions(chosen, engineMin) < 0) chosen = engineMin
  return chosen
}

/** The engine's refusal of a pinned version (`client version 1.24 is too old. Minimum ...`). */
export function isVersionMismatch(statusCode: number | null, message: string): boolean {
  return statusCode === 400 && /client version .* is too (old|new)/i.test(message)
}

export interface DockerodeApiOptions {
  /** `unix:///var/run/docker.sock`, `tcp://host:2375` or `http(s)://host:port` (Config.dockerHost). */
  dockerHost: string
  /** Per-request limit for everything but the events stream. */
  requestTimeoutMs?: number
}

/**
 * The slice of dockerode 5 we call. Every call takes an `abortSignal` (our per-request timeout),
 * which @types/dockerode 4 does not declare; answers are `unknown` until zod has read them.
 */
interface DockerodeClient {
  version(opts: { abortSignal: AbortSignal }): Promise<unknown>
  getEvents(opts: {
    since: number
    filters: Record<string, string[]>
    abortSignal: AbortSignal
  }): Promise<unknown>
  listContainers(opts: {
    all: boolean
    filters: Record<string, string[]>
    abortSignal: AbortSignal
  }): Promise<unknown>
  getContainer(id: string): { inspect(opts: { abortSignal: AbortSignal }): Promise<unknown> }
}

type ModemOptions = Docker.DockerOptions & { agent?: HttpAgent }

function client(opts: ModemOptions): DockerodeClient {
  return new Docker(opts)
}

/** The real engine, through dockerode. */
export class DockerodeApi implements DockerApi {
  readonly address: string
  private readonly requestTimeoutMs: number
  private readonly target: ModemOptions
  /** Unversioned: only for `/version`, which negotiates. */
  private readonly probe: DockerodeClient
  private requests: DockerodeClient
  /** Separate client for `/events`, with a keep-alive agent on TCP so a dead peer is noticed. */
  private stream: DockerodeClient
  private readonly agent: HttpAgent | undefined

  constructor(opts: DockerodeApiOptions) {
    this.address = opts.dockerHost
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000
    this.target = modemTarget(opts.dockerHost)
    if (this.target.socketPath === undefined) {
      const Agent = this.target.protocol === 'https' ? HttpsAgent : HttpAgent
      this.agent = new Agent({ keepAlive: true, keepAliveMsecs: 15_000 })
    }
    this.probe = client(this.target)
    this.requests = this.probe
    this.stream = this.probe
  }

  socketRemoved(): boolean {
    const path = this.target.socketPath
    if (path === undefined) return false
    try {
      // No link left: the host deleted it; only our mount keeps the inode alive.
      return statSync(path).nlink === 0
    } catch {
      // Not there at all: a host path, where the engine's next socket will appear.
      return false
    }
  }

  async negotiate(signal: AbortSignal): Promise<EngineInfo> {
    const raw = await this.call('GET /version', signal, (s) =>
      this.probe.version({ abortSignal: s })
    )
    const parsed = versionSchema.safeParse(raw)
    if (!parsed.success) {
      throw new DockerApiError(
        'GET /version: unexpected answer (is this a Docker engine?)',
        'protocol'
      )
    }
    const apiVersion = negotiateApiVersion(parsed.data.ApiVersion, parsed.data.MinAPIVersion)
    const versioned = { ...this.target, version: `v${apiVersion}` }
    this.requests = client(versioned)
    this.stream = client(this.agent ? { ...versioned, agent: this.agent } : versioned)
    return { version: parsed.data.Version, apiVersion }
  }

  async events(query: EventsQuery, signal: AbortSignal): Promise<Readable> {
    // Only the wait for the headers is bounded: an idle, filtered stream is silent for hours.
    const timeout = AbortSignal.timeout(this.requestTimeoutMs)
    const headers = AbortSignal.any([signal, timeout])
    const controller = new AbortController()
    const forward = () => {
      controller.abort(headers.reason)
    }
    signal.addEventListener('abort', forward, { once: true })
    headers.addEventListener('abort', forward, { once: true })
    try {
      const stream = await this.stream.getEvents({
        since: query.since,
        filters: query.filters,
        abortSignal: controller.signal,
      })
      headers.removeEventListener('abort', forward)
      if (!(stream instanceof Readable)) {
        throw new DockerApiError('GET /events: the client returned no stream', 'protocol')
      }
      // The consumer listens for errors itself; this one only keeps an error that comes before
      // (or without) the consumer from being an uncaught exception.
      stream.on('error', () => undefined)
      return stream
    } catch (err) {
      signal.removeEventListener('abort', forward)
      throw toApiError('GET /events', err, signal, timeout, this.requestTimeoutMs)
    }
  }

  async listContainers(project: string, signal: AbortSignal): Promise<ContainerSummary[]> {
    const raw = await this.call('GET /containers/json', signal, (s) =>
      this.requests.listContainers({
        all: true,
        filters: { label: [`${COMPOSE_PROJECT}=${project}`] },
        abortSignal: s,
      })
    )
    const parsed = summariesSchema.safeParse(raw)
    if (!parsed.success)
      throw new DockerApiError('GET /containers/json: unexpected answer', 'protocol')
    return parsed.data.map((c) => ({ id: c.Id, state: c.State }))
  }

  async inspectContainer(idOrName: string, signal: AbortSignal): Promise<InspectInfo | null> {
    if (!CONTAINER_REF.test(idOrName)) return null
    let raw: unknown
    try {
      raw = await this.call('GET /containers/{id}/json', signal, (s) =>
        this.requests.getContainer(idOrName).inspect({ abortSignal: s })
      )
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return null
      throw err
    }
    const parsed = inspectSchema.safeParse(raw)
    if (!parsed.success) {
      const paths = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ')
      throw new DockerApiError(
        `GET /containers/{id}/json: unexpected answer at ${paths}`,
        'protocol'
      )
    }
    return parsed.data
  }

  private async call<T>(
    what: string,
    signal: AbortSignal,
    fn: (s: AbortSignal) => Promise<T>
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs)
    try {
      return await fn(AbortSignal.any([signal, timeout]))
    } catch (err) {
      throw toApiError(what, err, signal, timeout, this.requestTimeoutMs)
    }
  }
}

/**
 * Explicit modem options for every field docker-modem would otherwise take from the environment
 * (DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_CLIENT_TIMEOUT): Config is the only source of truth,
 * and a client timeout would kill idle event streams (docker-py#1523).
 */
export function modemTarget(dockerHost: string): ModemOptions {
  const none = { ca: undefined, cert: undefined, key: undefined, timeout: undefined }
  if (dockerHost.startsWith('unix://')) {
    return {
      ...none,
      socketPath: dockerHost.slice('unix://'.length),
      host: undefined,
      port: undefined,
    }
  }
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'))
  return {
    ...none,
    socketPath: undefined,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  }
}

function toApiError(
  what: string,
  err: unknown,
  caller: AbortSignal,
  timeout: AbortSignal,
  timeoutMs: number
): DockerApiError {
  if (err instanceof DockerApiError) return err
  if (timeout.aborted) {
    return new DockerApiError(`${what} timed out after ${timeoutMs} ms`, 'timeout', null, {
      cause: err,
    })
  }
  if (caller.aborted) {
    const reason: unknown = caller.reason
    const timedOut = reason instanceof Error && reason.name === 'TimeoutError'
    return new DockerApiError(
      `${what} ${timedOut ? 'timed out' : 'aborted'}`,
      timedOut ? 'timeout' : 'unreachable',
      null,
      { cause: err }
    )
  }
  const e = err as { statusCode?: unknown; json?: unknown; message?: unknown }
  if (typeof e.statusCode === 'number') {
    const body = e.json as { message?: unknown } | null | undefined
    const message = oneLine(typeof body?.message === 'string' ? body.message : String(e.message))
    return new DockerApiError(
      `${what}: HTTP ${e.statusCode} ${message}`,
      isVersionMismatch(e.statusCode, message) ? 'version' : 'http',
      e.statusCode,
      { cause: err }
    )
  }
  const message = typeof e.message === 'string' ? e.message : String(err)
  return new DockerApiError(oneLine(message), 'unreachable', null, { cause: err })
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat
}
