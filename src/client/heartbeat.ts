/**
 * Heartbeats from TypeScript: `sendHeartbeat()` reports once, `HeartbeatSender` keeps reporting
 * on an interval and deregisters on a graceful stop. Only `fetch` and timers: Node 20+ and
 * browsers, no dependency.
 *
 * ```ts
 * import { hostname } from 'node:os'
 * const beats = new HeartbeatSender({
 *   url: 'http://health-bridge:8080', service: 'query-scheduler', instance: hostname(),
 *   check: async () => ({ details: { queueDepth: await queue.depth() } }),
 * }).start()
 * process.once('SIGTERM', () => void beats.stop().then(() => process.exit(0)))
 * ```
 */
import { HealthBridgeError, errorOf, urlOf } from './fetch-health.js'
import type { HeartbeatAccepted, HeartbeatRequest } from './types.js'

/** Where and as whom to report. */
export interface HeartbeatTarget {
  /** Where the bridge answers, e.g. `http://health-bridge:8080`; heartbeats go to `<url>/health`. */
  url: string
  /** The compose service name, e.g. `query-scheduler`. */
  service: string
  /**
   * Which replica is reporting. Pass the container's hostname (`os.hostname()`, `$(hostname)`)
   * whenever a service may run more than one container: the bridge matches it to the container,
   * so a silent replica turns that container unhealthy. Omitted, the bridge uses `default`, which
   * merges into the service's container only while it has exactly one.
   */
  instance?: string
  /** HEARTBEAT_TOKEN (or this service's own token); sent as `Authorization: Bearer <token>`. */
  token?: string
  /** Give up on one request after this long; default 5000 ms. */
  timeoutMs?: number
  /** The fetch to use; default `globalThis.fetch`. */
  fetch?: typeof fetch
}

/** What one heartbeat says. Nothing: "I am alive and well". */
export interface HeartbeatReport {
  /** `succeeded`/`failed`: a job reporting its end (it never goes stale afterwards). */
  status?: HeartbeatRequest['status']
  /** What is wrong; makes the instance unhealthy with this message (at most 1024 characters). */
  error?: string | null
  /** Free-form facts shown with the instance (a JSON object, at most 4 KiB). */
  details?: Record<string, unknown>
}

export interface HeartbeatOptions extends HeartbeatTarget, HeartbeatReport {
  signal?: AbortSignal
}

export const DEFAULT_HEARTBEAT_REQUEST_TIMEOUT_MS = 5000

/** Sends one heartbeat; resolves to the bridge's `202` answer, rejects with a HealthBridgeError. */
export async function sendHeartbeat(opts: HeartbeatOptions): Promise<HeartbeatAccepted> {
  const body: HeartbeatRequest = { service: opts.service, timestamp: new Date().toISOString() }
  if (opts.instance !== undefined) body.instance = opts.instance
  if (opts.status !== undefined) body.status = opts.status
  if (opts.error != null) body.error = opts.error
  if (opts.details !== undefined) body.details = opts.details
  const res = await request(opts, 'POST', urlOf(opts.url, '/health'), JSON.stringify(body))
  if (res.status !== 202) throw await errorOf(res, 'POST /health')
  try {
    return (await res.json()) as HeartbeatAccepted
  } catch {
    throw new HealthBridgeError('POST /health did not answer JSON; is url the bridge?', res.status)
  }
}

/**
 * Removes this instance from the bridge (`DELETE /health`), for a graceful shutdown: a replica
 * that is going away on purpose should not turn unhealthy when its heartbeats stop. Resolves
 * `false` when the bridge did not know the instance (already gone).
 */
export async function deregisterHeartbeat(
  opts: HeartbeatTarget & { signal?: AbortSignal }
): Promise<boolean> {
  const query = new URLSearchParams({ service: opts.service })
  if (opts.instance !== undefined) query.set('instance', opts.instance)
  const res = await request(opts, 'DELETE', urlOf(opts.url, `/health?${query.toString()}`))
  if (res.status === 204) return true
  if (res.status === 404) return false
  throw await errorOf(res, 'DELETE /health')
}

async function request(
  opts: HeartbeatTarget & { signal?: AbortSignal },
  method: 'POST' | 'DELETE',
  url: string,
  body?: string
): Promise<Response> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HEARTBEAT_REQUEST_TIMEOUT_MS
  const timeout = AbortSignal.timeout(timeoutMs)
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
  const init: RequestInit = {
    method,
    headers,
    signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
  }
  if (body !== undefined) init.body = body
  const f = opts.fetch ?? globalThis.fetch
  try {
    return await f(url, init)
  } catch (err) {
    // fetch's own "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, ...).
    const reason = timeout.aborted
      ? `no answer within ${timeoutMs} ms`
      : err instanceof Error && err.cause instanceof Error
        ? err.cause.message
        : err instanceof Error
          ? err.message
          : String(err)
    throw new HealthBridgeError(`${method} ${url} failed: ${reason}`, 0)
  }
}

export interface HeartbeatSenderOptions extends HeartbeatTarget {
  /**
   * Time between heartbeats; default 10 000 ms. Keep it at most a third of the bridge's timeout
   * for this service (HEARTBEAT_TIMEOUT, default 30 s), so one lost beat is not an outage.
   */
  intervalMs?: number
  /**
   * Each wait is `intervalMs` plus or minus this fraction of it (default 0.1), so replicas
   * started together do not beat in lockstep.
   */
  jitter?: number
  /**
   * Asked before every beat what to report. A throw (or rejection) reports its message as the
   * error, so a failing self-check turns the instance unhealthy instead of silencing it.
   */
  check?: () => HeartbeatReport | undefined | Promise<HeartbeatReport | undefined>
  /** A beat or the deregistration failed (network, 4xx/5xx). Default: ignored; the next beat retries. */
  onError?: (err: unknown) => void
  /** Whether `stop()` deregisters the instance; default true. */
  deregister?: boolean
  /** For tests: a source of randomness in [0, 1). */
  random?: () => number
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000
export const DEFAULT_HEARTBEAT_JITTER = 0.1

/**
 * Beats every `intervalMs` (with jitter) from `start()` until `stop()`. Beats never overlap:
 * the next wait starts when the previous beat has finished. Its timer does not keep a Node
 * process alive on its own.
 */
export class HeartbeatSender {
  private readonly opts: HeartbeatSenderOptions
  private readonly intervalMs: number
  private readonly jitter: number
  private timer: ReturnType<typeof setTimeout> | undefined
  private inFlight: Promise<unknown> | undefined
  private started = false
  private stopping: Promise<void> | undefined

  constructor(opts: HeartbeatSenderOptions) {
    const intervalMs = opts.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS
    const jitter = opts.jitter ?? DEFAULT_HEARTBEAT_JITTER
    if (!Number.isFinite(intervalMs) || intervalMs < 100) {
      throw new RangeError(`intervalMs must be at least 100 ms, got ${intervalMs}`)
    }
    if (!Number.isFinite(jitter) || jitter < 0 || jitter >= 1) {
      throw new RangeError(`jitter must be at least 0 and below 1, got ${jitter}`)
    }
    this.opts = opts
    this.intervalMs = intervalMs
    this.jitter = jitter
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.started && this.stopping === undefined
  }

  /** Sends the first beat now, then keeps beating. Calling it again does nothing. */
  start(): this {
    if (this.started || this.stopping) return this
    this.started = true
    this.tick()
    return this
  }

  /**
   * Sends one beat now (what `check` says), outside the schedule: e.g. right after an error, so
   * the bridge knows before the next beat is due. Resolves to the bridge's answer, or null when
   * the beat failed (reported to `onError`).
   */
  async beat(): Promise<HeartbeatAccepted | null> {
    const beat = this.send()
    this.inFlight = beat
    try {
      return await beat
    } finally {
      if (this.inFlight === beat) this.inFlight = undefined
    }
  }

  /** Stops beating, waits for a beat in flight, then deregisters (unless `deregister: false`). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.timer)
      this.timer = undefined
      await this.inFlight
      if (!this.started || this.opts.deregister === false) return
      try {
        await deregisterHeartbeat(this.opts)
      } catch (err) {
        this.report(err)
      }
    })()
    return this.stopping
  }

  private tick(): void {
    void this.beat().then(() => {
      if (this.stopping) return
      const spread = this.intervalMs * this.jitter * (2 * (this.opts.random ?? Math.random)() - 1)
      this.timer = setTimeout(() => {
        this.tick()
      }, this.intervalMs + spread)
      // Node: a heartbeat alone must not keep a process alive that has finished its work.
      const t = this.timer as { unref?: () => void }
      t.unref?.()
    })
  }

  private async send(): Promise<HeartbeatAccepted | null> {
    let report: HeartbeatReport
    try {
      report = (await this.opts.check?.()) ?? {}
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      report = { error: message === '' ? 'check failed' : message.slice(0, 1024) }
    }
    try {
      return await sendHeartbeat({ ...this.opts, ...report })
    } catch (err) {
      this.report(err)
      return null
    }
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err)
    } catch {
      // A throwing onError must not stop the heartbeat.
    }
  }
}
