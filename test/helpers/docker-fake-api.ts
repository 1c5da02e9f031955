/**
 * Hand-written fakes for unit tests of the Docker source: an engine behind our narrow `DockerApi`
 * (containers in a map, event streams the test writes to, breaks or ends) and a sink that records
 * what the source delivered. No module mocking.
 */
import { PassThrough } from 'node:stream'

import type { ContainerObservation, DockerSourceStatus } from '../../src/model/observations.js'
import {
  DockerApiError,
  type ContainerSummary,
  type DockerApi,
  type EngineInfo,
  type EventsQuery,
} from '../../src/sources/docker/docker-api.js'
import type { InspectInfo } from '../../src/sources/docker/map-container.js'
import type { ContainerSink } from '../../src/sources/source.js'

export const PROJECT = 'proj'

let seq = 0
/** A fresh 64-hex container id. */
export function containerId(): string {
  seq++
  return `${seq.toString(16).padStart(8, '0')}${'c'.repeat(56)}`
}

/** A running container of `service` in PROJECT, as inspect (already narrowed by zod) shows it. */
export function inspectInfo(service: string, over: DeepPartialInspect = {}): InspectInfo {
  const id = over.Id ?? containerId()
  const base: InspectInfo = {
    Id: id,
    Name: `/${PROJECT}-${service}-1`,
    Created: '2026-11-21T10:00:00.000000000Z',
    RestartCount: 0,
    Config: {
      Hostname: id.slice(0, 12),
      Labels: {
        'com.docker.compose.project': PROJECT,
        'com.docker.compose.service': service,
        'com.docker.compose.container-number': '1',
      },
    },
    State: {
      Status: 'running',
      OOMKilled: false,
      ExitCode: 0,
      StartedAt: '2026-11-21T10:00:01.000000000Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      Health: null,
    },
    NetworkSettings: { Networks: { [`${PROJECT}_default`]: { IPAddress: '172.18.0.2' } } },
  }
  return {
    ...base,
    ...over,
    Config: {
      ...base.Config,
      ...over.Config,
      Labels: { ...base.Config.Labels, ...over.Config?.Labels },
    },
    State: { ...base.State, ...over.State },
  }
}

export type DeepPartialInspect = Partial<Omit<InspectInfo, 'Config' | 'State'>> & {
  Config?: Partial<Omit<InspectInfo['Config'], 'Labels'>> & { Labels?: Record<string, string> }
  State?: Partial<InspectInfo['State']>
}

type Method = 'negotiate' | 'events' | 'list' | 'inspect'

export class FakeDockerApi implements DockerApi {
  readonly address = 'unix:///fake/docker.sock'
  /** What socketRemoved() answers: set it to play a socket file that dockerd deleted. */
  removed = false
  /** Inspects answer with the state when they were asked (see inspectContainer). */
  answersAsAsked = false
  readonly containers = new Map<string, InspectInfo>()
  /** Every call, in order: `events`, `list`, `inspect <id12>` ... */
  readonly calls: string[] = []
  readonly queries: EventsQuery[] = []
  readonly streams: PassThrough[] = []
  engine: EngineInfo = { version: '20.10.24', apiVersion: '1.41' }
  /** While true every call fails as if the socket were gone. */
  down = false
  /** The next call of a method fails with this error (once). */
  readonly failNext = new Map<Method, Error>()
  private lastStamp = 0
  /** Holds calls of a method until the test releases them. */
  private readonly gates = new Map<Method, { promise: Promise<void>; release: () => void }>()

  add(info: InspectInfo): InspectInfo {
    this.containers.set(info.Id, info)
    return info
  }

  /** Changes a container the way the engine would, keeping what is not mentioned. */
  update(id: string, over: DeepPartialInspect): InspectInfo {
    const old = this.containers.get(id)
    if (!old) throw new Error(`no container ${id}`)
    const next = {
      ...old,
      ...over,
      Config: {
        ...old.Config,
        ...over.Config,
        Labels: { ...old.Config.Labels, ...over.Config?.Labels },
      },
      State: { ...old.State, ...over.State },
    }
    this.containers.set(id, next)
    return next
  }

  /** The stream the source currently reads. */
  get stream(): PassThrough {
    const s = this.streams[this.streams.length - 1]
    if (!s) throw new Error('no events stream opened yet')
    return s
  }

  /** Writes one event line the way the engine does (legacy fields included, like Engine 20.10). */
  emit(
    action: string,
    id: string,
    attributes: Record<string, string> = {},
    timeNano?: number
  ): void {
    // Like the engine's, default stamps never repeat (the source de-duplicates on them); a step
    // of 1 µs stays well above the ~256 ns a double can tell apart at today's epoch.
    const t = timeNano ?? Math.max(Date.now() * 1e6, this.lastStamp + 1000)
    this.lastStamp = t
    this.stream.write(
      `${JSON.stringify({
        status: action,
        id,
        Type: 'container',
        Action: action,
        Actor: { ID: id, Attributes: { name: 'x', ...attributes } },
        scope: 'local',
        time: Math.floor(t / 1e9),
        timeNano: t,
      })}\n`
    )
  }

  gate(method: Method): () => void {
    let release: () => void = () => undefined
    const promise = new Promise<void>((r) => {
      release = r
    })
    this.gates.set(method, { promise, release })
    return () => {
      this.gates.delete(method)
      release()
    }
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length
  }

  socketRemoved(): boolean {
    return this.removed
  }

  async negotiate(signal: AbortSignal): Promise<EngineInfo> {
    await this.enter('negotiate', 'negotiate', signal)
    return this.engine
  }

  async events(query: EventsQuery, signal: AbortSignal): Promise<PassThrough> {
    await this.enter('events', 'events', signal)
    this.queries.push(query)
    const stream = new PassThrough()
    signal.addEventListener('abort', () => stream.destroy(), { once: true })
    this.streams.push(stream)
    return stream
  }

  async listContainers(project: string, signal: AbortSignal): Promise<ContainerSummary[]> {
    await this.enter('list', 'list', signal)
    return [...this.containers.values()]
      .filter((c) => c.Config.Labels['com.docker.compose.project'] === project)
      .map((c) => ({ id: c.Id, state: c.State.Status }))
  }

  async inspectContainer(id: string, signal: AbortSignal): Promise<InspectInfo | null> {
    // An engine answers with the state when it took the container's lock, not when the answer
    // arrives: with `answersAsAsked`, a held (gated) inspect answers with what was there when asked.
    const asked = this.containers.get(id)
    const then = this.answersAsAsked && asked ? structuredClone(asked) : undefined
    await this.enter('inspect', `inspect ${id.slice(0, 12)}`, signal)
    const found = then ?? this.containers.get(id)
    return found ? structuredClone(found) : null
  }

  private async enter(method: Method, call: string, signal: AbortSignal): Promise<void> {
    this.calls.push(call)
    const gate = this.gates.get(method)
    if (gate) await gate.promise
    signal.throwIfAborted()
    if (this.down) throw new DockerApiError('connect ECONNREFUSED /fake/docker.sock', 'unreachable')
    const failure = this.failNext.get(method)
    if (failure) {
      this.failNext.delete(method)
      throw failure
    }
  }
}

/** Records what the source delivers; keeps containers the way the store would. */
export class RecordingSink implements ContainerSink {
  readonly containers = new Map<string, ContainerObservation>()
  readonly statuses: DockerSourceStatus[] = []
  readonly log: string[] = []

  get status(): DockerSourceStatus | undefined {
    return this.statuses[this.statuses.length - 1]
  }

  states(): string[] {
    return this.statuses.map((s) => s.state).filter((s, i, all) => i === 0 || all[i - 1] !== s)
  }

  replaceContainers(containers: readonly ContainerObservation[]): void {
    this.log.push(`replace ${containers.length}`)
    this.containers.clear()
    for (const c of containers) this.containers.set(c.id, c)
  }

  upsertContainer(container: ContainerObservation): void {
    this.log.push(`upsert ${container.id.slice(0, 12)} ${container.state}`)
    this.containers.set(container.id, container)
  }

  removeContainer(id: string): void {
    this.log.push(`remove ${id.slice(0, 12)}`)
    this.containers.delete(id)
  }

  setDockerStatus(status: DockerSourceStatus): void {
    this.statuses.push(status)
  }
}
