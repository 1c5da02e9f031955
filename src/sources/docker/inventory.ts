/**
 * The project's containers as the source knows them, and the only code that writes containers
 * into the sink. Besides the sink's copy it remembers, per container, what outlives one inspect
 * answer: the restarts seen (an explicit `docker restart` resets `RestartCount`, so its event is
 * the only record of it), the last state (for the reconciliation), and whether its bad labels were
 * already complained about. It also remembers recently destroyed ids, so an inspect answer still
 * on its way cannot bring a destroyed container back.
 */
import type { Clock } from '../../clock.js'
import type { Logger } from '../../logger.js'
import type { ContainerObservation, ContainerState } from '../../model/observations.js'
import type { ContainerSink } from '../source.js'

import type { ContainerSummary } from './docker-api.js'
import { observedBy } from './event-state.js'
import type { ContainerEvent } from './events.js'
import { mapContainer, type InspectInfo } from './map-container.js'
import { RecentKeys } from './recent-keys.js'

/** Per container, what outlives one inspect answer. */
interface ContainerMemory {
  /** Null until the container was inspected once (only a `restart` event was seen). */
  restartCount: number | null
  restarts: number[]
  state: ContainerState | null
  /** Our clock when the sink last got this container; guards the reconciliation against races. */
  updatedAt: number
  labelsWarned: boolean
  /** What the sink last got, so an event can be applied on top of it. */
  last: ContainerObservation | null
}

export interface ContainerInventoryOptions {
  sink: ContainerSink
  log: Logger
  clock: Clock
  crashloopWindowMs: number
}

export class ContainerInventory {
  private readonly memory = new Map<string, ContainerMemory>()
  private readonly destroyed = new RecentKeys(4096)
  private readonly sink: ContainerSink
  private readonly log: Logger
  private readonly clock: Clock
  private readonly crashloopWindowMs: number

  constructor(options: ContainerInventoryOptions) {
    this.sink = options.sink
    this.log = options.log
    this.clock = options.clock
    this.crashloopWindowMs = options.crashloopWindowMs
  }

  /**
   * The answers of a full list + inspect (null: vanished between the two): replaces everything
   * the sink knew. Returns the number of containers.
   */
  replaceAll(infos: readonly (InspectInfo | null)[]): number {
    const present = infos.filter((i): i is InspectInfo => i !== null)
    const ids = new Set(present.map((i) => i.Id))
    for (const id of this.memory.keys()) if (!ids.has(id)) this.memory.delete(id)
    const observations = present.map((info) => this.observe(info))
    this.sink.replaceContainers(observations)
    return observations.length
  }

  /** One inspect answer; null when the engine no longer knows the container. */
  apply(id: string, info: InspectInfo | null): void {
    if (this.destroyed.has(id)) return
    if (info === null) {
      // Gone between the event and the inspect; its `destroy` event will say so too.
      this.forget(id)
      return
    }
    this.sink.upsertContainer(this.observe(info))
  }

  /**
   * What an event says of its container, applied at once on top of what the sink has (the
   * inspect the event also asks for confirms it and adds the details).
   */
  applyEvent(event: ContainerEvent): void {
    const known = this.memory.get(event.id)
    if (!known?.last || this.destroyed.has(event.id)) return
    const next = observedBy(event, known.last)
    if (next === null) return
    known.last = next
    known.state = next.state
    known.updatedAt = this.clock.now()
    this.sink.upsertContainer(next)
  }

  /** The container was destroyed: removed at once, and answers still on their way are ignored. */
  destroy(id: string): void {
    this.destroyed.add(id)
    this.forget(id)
  }

  isDestroyed(id: string): boolean {
    return this.destroyed.has(id)
  }

  /** An explicit restart, which resets `RestartCount`: its event is the only record of it. */
  recordRestart(id: string, at: number): void {
    const known = this.memory.get(id)
    if (known) known.restarts.push(at)
    else this.memory.set(id, { ...blankMemory(this.clock.now()), restarts: [at] })
  }

  /**
   * Compares a list taken at `listedAt` with what is known: forgets containers that are gone.
   * Returns the ids to inspect (state differs, or not known), and `unreported`: the changes the
   * events stream should have told us about (see stall-watch.ts). Left out of those: a container
   * an inspect is still settling (its event arrived, the answer has not), one updated after the
   * list was taken (we know newer than the list), and one being removed (its `destroy` comes once
   * the removal is done, however long that takes; if it never does, the next list finds it gone).
   */
  reconcile(
    listed: readonly ContainerSummary[],
    listedAt: number,
    inFlight: (id: string) => boolean
  ): { inspect: string[]; unreported: string[] } {
    const ids = new Set<string>()
    const inspect: string[] = []
    const unreported: string[] = []
    for (const s of listed) {
      ids.add(s.id)
      const known = this.memory.get(s.id)
      if (known?.state === s.state) continue
      inspect.push(s.id)
      const settling = inFlight(s.id) || (known !== undefined && known.updatedAt >= listedAt)
      if (!settling && s.state !== 'removing') unreported.push(s.id)
    }
    for (const [id, known] of this.memory) {
      // Updated after the list was taken: newer than the list, so the list cannot judge it.
      if (!ids.has(id) && known.updatedAt < listedAt && !inFlight(id)) {
        this.log.debug({ container: id.slice(0, 12) }, 'reconciliation: container is gone')
        this.forget(id)
        unreported.push(id)
      }
    }
    return { inspect, unreported }
  }

  private forget(id: string): void {
    this.memory.delete(id)
    this.sink.removeContainer(id)
  }

  /** Maps an inspect answer, carrying what is remembered about the container's restarts. */
  private observe(info: InspectInfo): ContainerObservation {
    const now = this.clock.now()
    const prior = this.memory.get(info.Id)
    const { observation, labelProblems } = mapContainer(info, prior, {
      now,
      crashloopWindowMs: this.crashloopWindowMs,
    })
    const warned = prior?.labelsWarned ?? false
    if (labelProblems.length > 0 && !warned) {
      this.log.warn(
        { container: observation.name, problems: labelProblems },
        'ignoring invalid health-bridge labels'
      )
    }
    this.memory.set(info.Id, {
      restartCount: observation.restartCount,
      restarts: [...observation.restarts],
      state: observation.state,
      updatedAt: now,
      labelsWarned: warned || labelProblems.length > 0,
      last: observation,
    })
    return observation
  }
}

function blankMemory(now: number): ContainerMemory {
  return {
    restartCount: null,
    restarts: [],
    state: null,
    updatedAt: now,
    labelsWarned: false,
    last: null,
  }
}
