/**
 * The bridge deployed as users deploy it, on an engine that can be restarted: a private dockerd
 * (docker-private-engine.ts) in a network namespace of its own with an address on a LAN
 * (netns.ts), running a small compose project that includes compose/health-bridge.yaml with the
 * engine's socket file bind-mounted, the snippet's `restart: unless-stopped` and its defaults
 * (DOCKER_STALE_AFTER 10 s, DOCKER_GIVE_UP_AFTER 2 m). The bridge's port is published on the
 * namespace's LAN address, so this process reaches it over TCP from outside the engine's
 * network, as a user's monitor would; the engine's iptables rules stay inside that namespace.
 *
 * Used by test/integration/deployed-engine-restart.test.ts and bench/engine-restart.ts.
 */
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { healthDocumentSchema, type HealthDocument } from '../../src/wire/health-document.js'

import { docker, REPO_ROOT, TEST_IMAGE } from './docker.js'
import { startPrivateEngine, type PrivateEngine } from './docker-private-engine.js'
import { createLan, type Lan, type NetHost } from './netns.js'
import { waitFor } from './wait-for.js'

const PORT = 8080

/** What every service's status and message must be once the stack is right again. */
export const RIGHT: Readonly<Record<string, string>> = {
  init: 'completed successfully',
  web: 'healthcheck passing',
  worker: 'running',
}

/**
 * An init job (exits 0, awaited with service_completed_successfully), a service with a
 * healthcheck and one without; both restart like CLP's long-running services would want to.
 * PID 1 exits on SIGTERM at once, so an engine stop without live-restore is quick.
 */
function composeYaml(): string {
  const loop = `["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ok; while :; do sleep 1; done"]`
  return `include:
  - ${REPO_ROOT}compose/health-bridge.yaml
services:
  init:
    image: ${TEST_IMAGE}
    command: ["true"]
  web:
    image: ${TEST_IMAGE}
    restart: unless-stopped
    command: ${loop}
    healthcheck: { test: ["CMD", "test", "-f", "/tmp/ok"], interval: 1s, timeout: 1s, retries: 1 }
    depends_on: { init: { condition: service_completed_successfully } }
  worker:
    image: ${TEST_IMAGE}
    restart: unless-stopped
    command: ${loop}
`
}

export interface BridgeContainer {
  id: string
  restartCount: number
  running: boolean
  /** When its process last exited (ms since the epoch; the engine's clock is this machine's). */
  finishedAt: number
}

export interface DeployedStack {
  readonly engine: PrivateEngine
  readonly url: string
  readonly project: string
  compose(args: readonly string[], timeoutMs?: number): Promise<string>
  bridgeContainer(): Promise<BridgeContainer>
  /** The bridge container's log lines (both runs: json-file keeps them across restarts). */
  bridgeLog(): Promise<Record<string, unknown>[]>
  /** Sets the running engine's live-restore (daemon.json + SIGHUP) and waits until it took. */
  setLiveRestore(on: boolean): Promise<void>
  destroy(): Promise<void>
}

/**
 * Starts the engine and the project and waits until every status is right. `image` is a bridge
 * image of the shared engine; it and the test image are loaded into the private one.
 */
export async function deployStack(opts: {
  project: string
  image: string
  nodeImage: string
  dir: string
  liveRestore: boolean
}): Promise<DeployedStack> {
  const driver = await docker(['info', '--format', '{{.Driver}}'])
  let lan: Lan | undefined
  let engine: PrivateEngine | undefined
  const destroy = async () => {
    await engine?.destroy()
    await lan?.destroy()
  }
  try {
    lan = await createLan()
    const net: NetHost = await lan.addHost('engine', 10)
    engine = await startPrivateEngine(driver, {
      netns: net.netns,
      daemonConfig: { 'live-restore': opts.liveRestore },
    })
    const eng = engine
    await eng.load(opts.image)
    const file = join(opts.dir, 'compose.yaml')
    writeFileSync(file, composeYaml())
    const env = {
      HEALTH_BRIDGE_IMAGE: opts.image,
      HEALTH_BRIDGE_NODE_IMAGE: opts.nodeImage,
      HEALTH_BRIDGE_NAME: 'engine-host',
      HEALTH_BRIDGE_BIND: net.address,
      HEALTH_BRIDGE_PORT: String(PORT),
      HEALTH_BRIDGE_DOCKER_SOCKET: eng.socket,
      DOCKER_GID: String(statSync(eng.socket).gid),
    }
    const compose = (args: readonly string[], timeoutMs = 120_000) =>
      docker(['compose', '--project-name', opts.project, '-f', file, ...args], {
        socket: eng.socket,
        env,
        timeoutMs,
      })
    const bridgeId = async () =>
      compose(['ps', '--all', '--quiet', 'health-bridge']).then((out) => out.split('\n')[0] ?? '')
    const stack: DeployedStack = {
      engine: eng,
      url: `http://${net.address}:${PORT}`,
      project: opts.project,
      compose,
      bridgeContainer: async () => {
        const id = await bridgeId()
        const out = await docker(
          ['inspect', '--format', '{{.RestartCount}} {{.State.Running}} {{.State.FinishedAt}}', id],
          { socket: eng.socket }
        )
        const [count, running, finished] = out.split(' ')
        return {
          id,
          restartCount: Number(count),
          running: running === 'true',
          finishedAt: Date.parse(finished ?? ''),
        }
      },
      bridgeLog: async () => {
        const out = await docker(['logs', await bridgeId()], { socket: eng.socket })
        return out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      },
      setLiveRestore: async (on) => {
        eng.reconfigure({ 'live-restore': on })
        await waitFor(
          async () =>
            (await docker(['info', '--format', '{{.LiveRestoreEnabled}}'], {
              socket: eng.socket,
            })) === String(on),
          { what: `live-restore ${on ? 'on' : 'off'}`, intervalMs: 200 }
        )
      },
      destroy,
    }
    // --wait would call the init job's exit a failure; the bridge's own view is what counts.
    await compose(['up', '--detach'])
    await waitFor(async () => isRight(await sample(stack.url)), {
      what: 'the deployed stack right',
      timeoutMs: 90_000,
      intervalMs: 200,
    })
    return stack
  } catch (err) {
    await destroy()
    throw err
  }
}

/** One look at the bridge from outside, as a monitor polling GET /health sees it. */
export interface Sample {
  at: number
  /** HTTP status, or 0 when nothing answered (the bridge is down or restarting). */
  http: number
  doc: HealthDocument | null
}

export async function sample(url: string): Promise<Sample> {
  const at = Date.now()
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })
    const doc = healthDocumentSchema.parse(await res.json())
    return { at, http: res.status, doc }
  } catch {
    return { at, http: 0, doc: null }
  }
}

/** Following the engine, 200, and every service with the status and message it should have. */
export function isRight(s: Sample): boolean {
  const d = s.doc
  if (!d || s.http !== 200 || d.status !== 'healthy') return false
  if (d.bridge.sources.docker.state !== 'following') return false
  const names = Object.keys(RIGHT)
  return (
    d.services.length === names.length &&
    d.services.every((svc) => svc.status === 'healthy' && svc.message === RIGHT[svc.name])
  )
}

/** The overall status or any instance `unknown`: what a user sees as "the bridge is blind". */
export function showsUnknown(s: Sample): boolean {
  const d = s.doc
  if (!d) return false
  return (
    d.status === 'unknown' ||
    d.services.some((svc) => svc.instances.some((i) => i.status === 'unknown'))
  )
}

/** Polls GET /health every `intervalMs` until stopped; the samples are kept in order. */
export class Poller {
  readonly samples: Sample[] = []
  private running = true
  private readonly done: Promise<void>

  constructor(url: string, intervalMs = 100) {
    this.done = (async () => {
      while (this.running) {
        const started = Date.now()
        this.samples.push(await sample(url))
        await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))))
      }
    })()
  }

  async stop(): Promise<Sample[]> {
    this.running = false
    await this.done
    return this.samples
  }
}

/** What one engine restart looked like from outside, in ms from the moment the engine was back. */
export interface RestartFigures {
  /** When dockerd was asked to stop, and when it answered again (ms since the epoch). */
  stoppedAt: number
  backAt: number
  /** dockerd asked to stop -> it answers `_ping` again. */
  engineDownMs: number
  /** Engine back -> the first answer with the Docker source following. */
  followingMs: number
  /** Engine back -> the first answer with every status right. */
  rightMs: number
  /** How long the answers showed anything unknown (sum over samples, whole restart). */
  unknownMs: number
  /** How long nothing answered (the bridge container down or restarting). */
  silentMs: number
  /** Answers of 200 that showed something unknown: must be none (a blind bridge answers 503). */
  okWhileUnknown: number
}

/**
 * Restarts the engine (SIGTERM, as a host shutdown or upgrade would, then start) under the
 * deployed stack and waits until every status is right again, polling from outside.
 */
export async function restartEngine(
  stack: DeployedStack,
  timeoutMs = 60_000
): Promise<RestartFigures> {
  const poller = new Poller(stack.url)
  const stopAt = Date.now()
  try {
    await stack.engine.stop()
    await stack.engine.start()
  } catch (err) {
    await poller.stop()
    throw err
  }
  const backAt = Date.now()
  let last: Sample | undefined
  try {
    await waitFor(
      () => {
        last = poller.samples.at(-1)
        return last !== undefined && last.at >= backAt && isRight(last)
      },
      { what: 'every status right after the engine restart', timeoutMs, intervalMs: 100 }
    )
  } catch (err) {
    await poller.stop()
    throw new Error(`${(err as Error).message}; last answer: ${describeSample(last)}`, {
      cause: err,
    })
  }
  const samples = await poller.stop()
  const after = samples.filter((s) => s.at >= backAt)
  const firstAt = (pred: (s: Sample) => boolean) => (after.find(pred)?.at ?? NaN) - backAt
  // Each sample stands for the time until the next one.
  const spent = (pred: (s: Sample) => boolean) =>
    samples.reduce((sum, s, i) => {
      const next = samples[i + 1]
      return next && pred(s) ? sum + (next.at - s.at) : sum
    }, 0)
  return {
    stoppedAt: stopAt,
    backAt,
    engineDownMs: backAt - stopAt,
    followingMs: firstAt((s) => s.doc?.bridge.sources.docker.state === 'following'),
    rightMs: firstAt(isRight),
    unknownMs: spent(showsUnknown),
    silentMs: spent((s) => s.http === 0),
    okWhileUnknown: samples.filter((s) => s.http === 200 && showsUnknown(s)).length,
  }
}

/** One line, for failure messages. */
export function describeSample(s: Sample | undefined): string {
  if (!s) return '(none)'
  if (!s.doc) return 'no answer'
  const d = s.doc
  const services = d.services.map((svc) => `${svc.name}=${svc.status} (${svc.message})`)
  return `${s.http} ${d.status}; docker ${d.bridge.sources.docker.state}; ${services.join(', ')}`
}
