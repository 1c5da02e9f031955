/**
 * Where observations live, grouped by service: the containers the Docker source reports and the
 * heartbeats services send. Every write says which services it touched, so the store re-judges
 * those and no others. Two stack-wide facts are kept incrementally here too: which services are
 * awaited as jobs (`service_completed_successfully`), and a container id -> service index.
 */
import { matches } from '../model/heartbeat-match.js'
import type { ContainerObservation, HeartbeatObservation } from '../model/observations.js'

export interface ServiceObservations {
  /** By container id; one-off (`docker compose run`) containers are not part of a service. */
  readonly containers: Map<string, ContainerObservation>
  /** By instance name. */
  readonly heartbeats: Map<string, HeartbeatObservation>
}

function awaitedBy(c: ContainerObservation): string[] {
  if (c.oneoff) return []
  return c.dependsOn
    .filter((d) => d.condition === 'service_completed_successfully')
    .map((d) => d.service)
}

export class ObservationIndex {
  private readonly services = new Map<string, ServiceObservations>()
  /** Every container, one-off ones included (they count for sender checks). */
  private readonly all = new Map<string, ContainerObservation>()
  /** Service -> how many containers await it as a job; a service is awaited while > 0. */
  private readonly awaitCounts = new Map<string, number>()
  private readonly awaitedSet = new Set<string>()
  private heartbeatCount = 0

  get heartbeatInstances(): number {
    return this.heartbeatCount
  }

  /** Services awaited by another with `service_completed_successfully`: jobs. */
  get awaitedAsJobs(): ReadonlySet<string> {
    return this.awaitedSet
  }

  service(name: string): ServiceObservations | undefined {
    return this.services.get(name)
  }

  serviceNames(): IterableIterator<string> {
    return this.services.keys()
  }

  containers(): IterableIterator<ContainerObservation> {
    return this.all.values()
  }

  container(id: string): ContainerObservation | undefined {
    return this.all.get(id)
  }

  /** Adds or replaces a container; returns the services whose judgement it may change. */
  upsertContainer(c: ContainerObservation, touched: Set<string>): void {
    const old = this.all.get(c.id)
    // Replaced in place, so a service's containers keep the order in which they appeared.
    if (old) this.unlink(old, touched, old.service !== c.service || old.oneoff !== c.oneoff)
    this.all.set(c.id, c)
    if (!c.oneoff) this.entry(c.service).containers.set(c.id, c)
    this.await(c, 1, touched)
    touched.add(c.service)
  }

  /**
   * Removes a container, and the heartbeats that spoke for it: a crashed or scaled-down replica
   * that never deregistered must not linger as an unhealthy instance for 10 timeouts.
   */
  removeContainer(id: string, touched: Set<string>): HeartbeatObservation[] {
    const gone = this.all.get(id)
    if (!gone) return []
    this.all.delete(id)
    this.unlink(gone, touched)
    const dropped: HeartbeatObservation[] = []
    const entry = this.services.get(gone.service)
    for (const hb of entry?.heartbeats.values() ?? []) {
      if (matches(hb.instance, gone, true)) dropped.push(hb)
    }
    for (const hb of dropped) this.deleteHeartbeat(hb.service, hb.instance, touched)
    this.prune(gone.service)
    return dropped
  }

  /** Replaces every container (after a full list); anything not listed is gone. */
  replaceContainers(list: readonly ContainerObservation[], touched: Set<string>): void {
    for (const c of [...this.all.values()]) this.unlink(c, touched)
    this.all.clear()
    for (const c of list) this.upsertContainer(c, touched)
    for (const name of touched) this.prune(name)
  }

  heartbeat(service: string, instance: string): HeartbeatObservation | undefined {
    return this.services.get(service)?.heartbeats.get(instance)
  }

  setHeartbeat(hb: HeartbeatObservation, touched: Set<string>): void {
    const beats = this.entry(hb.service).heartbeats
    if (!beats.has(hb.instance)) this.heartbeatCount++
    beats.set(hb.instance, hb)
    touched.add(hb.service)
  }

  deleteHeartbeat(service: string, instance: string, touched: Set<string>): boolean {
    const entry = this.services.get(service)
    if (!entry?.heartbeats.delete(instance)) return false
    this.heartbeatCount--
    touched.add(service)
    this.prune(service)
    return true
  }

  private entry(name: string): ServiceObservations {
    let e = this.services.get(name)
    if (!e) {
      e = { containers: new Map(), heartbeats: new Map() }
      this.services.set(name, e)
    }
    return e
  }

  private unlink(c: ContainerObservation, touched: Set<string>, detach = true): void {
    if (detach) this.services.get(c.service)?.containers.delete(c.id)
    this.await(c, -1, touched)
    touched.add(c.service)
  }

  /** Keeps the awaited-as-jobs counts; a service entering or leaving the set is touched. */
  private await(c: ContainerObservation, by: 1 | -1, touched: Set<string>): void {
    for (const name of new Set(awaitedBy(c))) {
      const n = (this.awaitCounts.get(name) ?? 0) + by
      if (n > 0) this.awaitCounts.set(name, n)
      else this.awaitCounts.delete(name)
      const was = this.awaitedSet.has(name)
      if (n > 0 && !was) this.awaitedSet.add(name)
      else if (n <= 0 && was) this.awaitedSet.delete(name)
      else continue
      touched.add(name)
    }
  }

  private prune(name: string): void {
    const e = this.services.get(name)
    if (e && e.containers.size === 0 && e.heartbeats.size === 0) this.services.delete(name)
  }
}
