/**
 * DOCKER=auto without an engine at start-up (a laptop without Docker, or Docker not started yet):
 * the bridge runs heartbeat-only and keeps looking in the background, and hands over to a
 * `DockerSource` once an engine answers.
 *
 * While it looks, `bridge.sources.docker` is `disabled`, with a detail that says it is looking.
 * Not `disconnected`: that would make Docker-judged state count, and an engine that was never
 * there would hold the overall status at `starting` (503) for the process lifetime. Heartbeats
 * keep working and `/health/ready` answers 200, as with DOCKER=off. Once an engine was reached the
 * `DockerSource` takes over: from then on the engine counts like any other (stale after
 * DOCKER_STALE_AFTER, give-up after DOCKER_GIVE_UP_AFTER).
 */
import type { Logger } from '../../logger.js'
import { DOCKER_DISABLED, type DockerSourceStatus } from '../../model/observations.js'
import type { ContainerSink, HealthSource } from '../source.js'

import { sleep } from '../async.js'
import { Backoff, type BackoffOptions } from '../backoff.js'
import type { EngineProbe } from './engine-probe.js'

/** Soon at first (Docker is being started), then every 10 s: a look at a missing socket is free. */
export const SEARCH_BACKOFF: BackoffOptions = {
  initialMs: 1000,
  factor: 1.5,
  maxMs: 10_000,
  jitter: 0.2,
}

/** An engine answered and a project is known. */
export type FoundEngine = EngineProbe & { project: string }

export interface EngineSearchOptions {
  /** The engine's address, for messages. */
  dockerHost: string
  /** One look for the engine and the project. */
  look: (signal: AbortSignal) => Promise<EngineProbe>
  /** Builds what follows the engine once it was found (it publishes its own status). */
  watch: (found: FoundEngine) => HealthSource
  /** The engine answered, but there is no project to watch: the search ends heartbeat-only. */
  noProject: (probe: EngineProbe) => void
  sink: Pick<ContainerSink, 'setDockerStatus'>
  log: Logger
  backoff?: BackoffOptions
}

export class EngineSearch implements HealthSource {
  private readonly stopController = new AbortController()
  private loop: Promise<void> | null = null
  private found: HealthSource | null = null
  private detail: string

  /** `first` is the look at start-up that found no engine. */
  constructor(
    private readonly options: EngineSearchOptions,
    first: EngineProbe
  ) {
    this.detail = searchingDetail(options.dockerHost, first.unreachable)
  }

  /** What `bridge.sources.docker` shows while the search goes on. */
  get status(): DockerSourceStatus {
    return { ...DOCKER_DISABLED, detail: this.detail }
  }

  start(): void {
    if (this.loop !== null || this.stopped()) return
    this.loop = this.search()
  }

  async stop(): Promise<void> {
    this.stopController.abort()
    await this.loop
    await this.found?.stop()
  }

  /** A method, not a getter: it changes across awaits, which narrowing must not assume away. */
  private stopped(): boolean {
    return this.stopController.signal.aborted
  }

  private async search(): Promise<void> {
    const { signal } = this.stopController
    const backoff = new Backoff(this.options.backoff ?? SEARCH_BACKOFF)
    for (;;) {
      await sleep(backoff.next(), signal)
      if (this.stopped()) return
      const probe = await this.options.look(signal)
      if (this.stopped()) return
      if (probe.unreachable === null) {
        this.handOver(probe)
        return
      }
      this.stillLooking(probe.unreachable)
    }
  }

  /** A new reason is news (ENOENT, then EACCES: the socket is there, our user may not use it). */
  private stillLooking(reason: string): void {
    const detail = searchingDetail(this.options.dockerHost, reason)
    this.options.log.debug({ reason }, 'still no docker engine')
    if (detail === this.detail) return
    this.detail = detail
    this.options.sink.setDockerStatus(this.status)
  }

  private handOver(probe: EngineProbe): void {
    const { project } = probe
    if (project === null) {
      this.options.noProject(probe)
      return
    }
    this.options.log.info(
      {
        project,
        via: probe.via,
        dockerHost: this.options.dockerHost,
        engine: probe.engine?.version ?? null,
        api: probe.engine?.apiVersion ?? null,
      },
      'docker engine appeared; watching compose project'
    )
    this.found = this.options.watch({ ...probe, project })
    this.found.start()
  }
}

/** The `detail` while looking: which address, why not yet, and what the bridge does meanwhile. */
export function searchingDetail(dockerHost: string, reason: string | null): string {
  return `no Docker engine at ${dockerHost} (${reason ?? 'unreachable'}); heartbeat-only until one answers (DOCKER=auto)`
}
