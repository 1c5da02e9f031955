/**
 * The Docker source's own state, as `bridge.sources.docker` shows it: changed by patches, pushed
 * to the sink only when a field differs (so the document's bytes stay the same when nothing did),
 * and never after the source was stopped.
 */
import type { Logger } from '../../logger.js'
import type { DockerSourceStatus } from '../../model/observations.js'
import type { ContainerSink } from '../source.js'

export class SourceStatus {
  private status: DockerSourceStatus

  constructor(
    initial: DockerSourceStatus,
    private readonly sink: Pick<ContainerSink, 'setDockerStatus'>,
    private readonly log: Logger,
    private readonly stopped: () => boolean
  ) {
    this.status = initial
  }

  get current(): DockerSourceStatus {
    return this.status
  }

  /** Pushes the current state, changed or not (on start). */
  publish(): void {
    this.sink.setDockerStatus(this.status)
  }

  set(patch: Partial<DockerSourceStatus>): void {
    const next = { ...this.status, ...patch }
    const same = (Object.keys(next) as (keyof DockerSourceStatus)[]).every(
      (k) => next[k] === this.status[k]
    )
    if (same) return
    const from = this.status.state
    this.status = next
    if (next.state !== from) {
      this.log.debug({ from, to: next.state, detail: next.detail }, 'docker source state')
    }
    if (!this.stopped()) this.sink.setDockerStatus(next)
  }
}
