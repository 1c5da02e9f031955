/**
 * The Docker part of the soak: a private dockerd (test/helpers/docker-private-engine.ts: its own
 * socket, data root and network namespace; the shared engine is never touched) runs a small
 * compose project: an init job, a long-running service whose process is SIGKILLed now and then (comes
 * back by its restart policy), one with a healthcheck, and one that crashes by itself every
 * 20-40 s (`restart: always`). The engine itself is stopped and started a few times during the
 * run; each outage is timed as the bridge saw it (its `sources.docker.state`, over HTTP).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import {
  docker,
  dockerAvailable,
  removeProject,
  TEST_IMAGE,
  uniqueProject,
} from '../../test/helpers/docker.js'
import {
  privateEngineUnavailable,
  startPrivateEngine,
  type PrivateEngine,
} from '../../test/helpers/docker-private-engine.js'

import { between, sleep } from './tally.js'

/** The project's services; `kind` is what the bridge should judge each as. */
export const COMPOSE_SERVICES = {
  'soak-init': 'job',
  'soak-web': 'service',
  'soak-probe': 'service',
  'soak-crasher': 'service',
} as const

const COMPOSE_FILE = `services:
  soak-init:
    image: ${TEST_IMAGE}
    pull_policy: never
    network_mode: none
    command: ["sh", "-c", "sleep 2"]
  soak-web:
    image: ${TEST_IMAGE}
    pull_policy: never
    network_mode: none
    restart: always
    stop_grace_period: 1s
    command: ["sleep", "100000"]
    labels: { health-bridge.critical: "false" }
    depends_on:
      soak-init: { condition: service_completed_successfully }
  soak-probe:
    image: ${TEST_IMAGE}
    pull_policy: never
    network_mode: none
    restart: unless-stopped
    stop_grace_period: 1s
    command: ["sleep", "100000"]
    healthcheck: { test: ["CMD", "true"], interval: 2s, timeout: 2s, retries: 1 }
  soak-crasher:
    image: ${TEST_IMAGE}
    pull_policy: never
    network_mode: none
    restart: always
    stop_grace_period: 1s
    command: ["sh", "-c", "sleep $$((20 + RANDOM % 21)); echo crashing; exit 3"]
    labels: { health-bridge.critical: "false" }
`

export interface EngineOutage {
  /** Seconds into the run when dockerd got SIGTERM. */
  at: number
  /** dockerd's own shutdown, ms. */
  stopMs: number
  /** From SIGTERM until the bridge no longer said `following`, ms (null: it never noticed). */
  noticedMs: number | null
  /** From dockerd answering `_ping` again until the bridge was `following` again, ms. */
  recoveredMs: number | null
}

export interface Chaos {
  readonly project: string
  readonly socket: string
  /** The bridge's environment for this engine and project. */
  readonly bridgeEnv: Record<string, string>
  readonly outages: EngineOutage[]
  kills: number
  engineVersion: string
  /** Kills and engine restarts until `stopped()`; engine restarts at evenly spread instants. */
  run(opts: ChaosRunOptions): Promise<void>
  compose(args: readonly string[]): Promise<string>
  destroy(): Promise<void>
}

export interface ChaosRunOptions {
  startedAt: number
  durationMs: number
  restarts: number
  stopped: () => boolean
  /** The bridge's `bridge.sources.docker.state`, or null when it does not answer. */
  dockerState: () => Promise<string | null>
  log: (message: string) => void
}

/** Why the Docker part cannot run here, or null. */
export async function chaosUnavailable(): Promise<string | null> {
  const shared = await dockerAvailable().catch((err: unknown) => ({
    ok: false as const,
    reason: (err as Error).message,
  }))
  if (!shared.ok) return shared.reason
  return privateEngineUnavailable()
}

async function until(
  cond: () => Promise<boolean>,
  timeoutMs: number,
  stopped: () => boolean = () => false
): Promise<number | null> {
  const t0 = performance.now()
  while (performance.now() - t0 < timeoutMs && !stopped()) {
    if (await cond()) return performance.now() - t0
    await sleep(100)
  }
  return null
}

export async function startChaos(): Promise<Chaos> {
  const driver = await docker(['info', '--format', '{{.Driver}}'])
  const engine: PrivateEngine = await startPrivateEngine(driver)
  const project = uniqueProject('soak')
  const dir = mkdtempSync(join(tmpdir(), 'hb-soak-'))
  const file = join(dir, 'compose.yaml')
  writeFileSync(file, COMPOSE_FILE)
  const opts = { socket: engine.socket, timeoutMs: 120_000 }
  const compose = (args: readonly string[]) =>
    docker(['compose', '--project-name', project, '-f', file, ...args], opts)
  let busy = false
  /**
   * SIGKILL to the container's process from the host, as the OOM killer would. Not `docker
   * kill`: the engine counts that as a manual stop, and the restart policy leaves it stopped.
   */
  const crash = async (name: string) => {
    const pid = Number(await docker(['inspect', '--format', '{{.State.Pid}}', name], opts))
    if (pid > 0) process.kill(pid, 'SIGKILL')
  }
  const chaos: Chaos = {
    project,
    socket: engine.socket,
    bridgeEnv: {
      DOCKER: 'on',
      DOCKER_HOST: `unix://${engine.socket}`,
      COMPOSE_PROJECT_NAME: project,
      // Kills of soak-web age out within a few minutes; the crasher stays crash-looping.
      CRASHLOOP_WINDOW: '2m',
    },
    outages: [],
    kills: 0,
    engineVersion: '',
    compose,
    run: async (o) => {
      const restartAt = Array.from(
        { length: o.restarts },
        (_, i) => o.startedAt + ((i + 1) * o.durationMs) / (o.restarts + 1)
      )
      let nextKill = Date.now() + between(45_000, 75_000)
      while (!o.stopped()) {
        const now = Date.now()
        if (restartAt.length > 0 && now >= (restartAt[0] ?? Infinity)) {
          restartAt.shift()
          busy = true
          const at = (now - o.startedAt) / 1000
          o.log(`chaos: stopping the private dockerd (t=${at.toFixed(0)}s)`)
          const t0 = performance.now()
          const noticed = until(async () => (await o.dockerState()) !== 'following', 60_000)
          await engine.stop()
          const stopMs = performance.now() - t0
          const noticedMs = await noticed
          await sleep(2000)
          await engine.start()
          const recoveredMs = await until(
            async () => (await o.dockerState()) === 'following',
            90_000
          )
          busy = false
          chaos.outages.push({ at, stopMs, noticedMs, recoveredMs })
          o.log(
            `chaos: dockerd back; the bridge noticed in ${noticedMs?.toFixed(0) ?? 'never'} ms, following again ${recoveredMs?.toFixed(0) ?? 'never'} ms after _ping`
          )
        } else if (now >= nextKill) {
          nextKill = now + between(45_000, 75_000)
          await crash(`${project}-soak-web-1`)
            .then(() => chaos.kills++)
            .catch((err: unknown) => {
              o.log(`chaos: kill failed: ${(err as Error).message}`)
            })
        }
        await sleep(250)
      }
    },
    destroy: async () => {
      if (!busy) await removeProject(project, opts).catch(() => undefined)
      await engine.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    chaos.engineVersion = await docker(
      ['version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})'],
      opts
    )
    await compose(['up', '--detach', '--wait', '--wait-timeout', '60', 'soak-web', 'soak-probe'])
    await compose(['up', '--detach', 'soak-crasher'])
  } catch (err) {
    await chaos.destroy()
    throw err
  }
  return chaos
}
