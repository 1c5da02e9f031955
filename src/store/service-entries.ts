/**
 * The judged services the document is made of, one entry each: the latest judgement, its
 * impact, and its rendering (the wire object, its bytes and its draw hash), re-rendered only
 * when the judgement or the impact changed. Impact is kept current through a reverse
 * dependency index: when a service enters or leaves `unhealthy` (or dependencies change), only
 * the services that depend on it, directly or transitively, recompute `impactedBy`.
 */
import { dependentsOf } from '../model/judge-stack.js'
import type { JudgedService } from '../model/judged.js'
import type { Bytes } from '../render/document.js'
import { serviceDrawHash, serviceEtag } from '../render/etag.js'
import { serviceView, type ServiceHistory } from '../render/views.js'
import type { ServiceView } from '../wire/health-document.js'

export interface ServiceEntry {
  readonly name: string
  judged: JudgedService
  aliases: ReadonlyMap<string, string>
  history: ServiceHistory
  impactedBy: readonly string[]
  view: ServiceView
  /** `JSON.stringify(view)` as UTF-8: what the document and the stream are made of. */
  fragment: Bytes
  drawHash: string
  etag: string
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

const EMPTY = Buffer.alloc(0)

export class ServiceEntries {
  private readonly map = new Map<string, ServiceEntry>()
  private sorted: ServiceEntry[] | null = null
  private dependents: Map<string, Set<string>> | null = null
  private readonly toRender = new Set<string>()
  private removedNames: string[] = []

  /** What impact needs of each service: its status and its dependencies. */
  readonly nodes = {
    get: (name: string): Pick<JudgedService, 'status' | 'dependsOn'> | undefined =>
      this.map.get(name)?.judged,
  }

  get(name: string): ServiceEntry | undefined {
    return this.map.get(name)
  }

  names(): IterableIterator<string> {
    return this.map.keys()
  }

  /** Entries in name order, as the document lists them. */
  ordered(): readonly ServiceEntry[] {
    this.sorted ??= [...this.map.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    )
    return this.sorted
  }

  *judgedServices(): IterableIterator<JudgedService> {
    for (const e of this.map.values()) yield e.judged
  }

  /**
   * Stores a new judgement (to be rendered). True when it may change other services' impact:
   * the service is new, entered or left `unhealthy`, or its dependencies changed.
   */
  set(
    judged: JudgedService,
    aliases: ReadonlyMap<string, string>,
    history: ServiceHistory
  ): boolean {
    this.toRender.add(judged.name)
    const e = this.map.get(judged.name)
    if (!e) {
      this.map.set(judged.name, {
        name: judged.name,
        judged,
        aliases,
        history,
        impactedBy: [],
        view: serviceView(judged, [], history),
        fragment: EMPTY,
        drawHash: '',
        etag: '',
      })
      this.sorted = null
      this.dependents = null
      return true
    }
    const before = e.judged
    e.judged = judged
    e.aliases = aliases
    e.history = history
    const depsChanged = !sameList(before.dependsOn, judged.dependsOn)
    if (depsChanged) this.dependents = null
    return depsChanged || (before.status === 'unhealthy') !== (judged.status === 'unhealthy')
  }

  remove(name: string): boolean {
    if (!this.map.delete(name)) return false
    this.sorted = null
    this.dependents = null
    this.toRender.delete(name)
    this.removedNames.push(name)
    return true
  }

  /** Recomputes `impactedBy` of the services whose impact the `seeds` may have changed. */
  updateImpact(seeds: ReadonlySet<string>, impactOf: (name: string) => string[]): void {
    if (seeds.size === 0) return
    const affected = dependentsOf(seeds, this.reverseIndex())
    for (const s of seeds) affected.add(s)
    for (const name of affected) {
      const e = this.map.get(name)
      if (!e) continue
      const impact = impactOf(name)
      if (sameList(e.impactedBy, impact)) continue
      e.impactedBy = impact
      this.toRender.add(name)
    }
  }

  /** Renders what changed; says which services a display draws differently, and which went. */
  render(): { drawChanged: string[]; removed: string[] } {
    const drawChanged: string[] = []
    for (const name of this.toRender) {
      const e = this.map.get(name)
      if (!e) continue
      e.view = serviceView(e.judged, e.impactedBy, e.history)
      e.fragment = Buffer.from(JSON.stringify(e.view))
      const hash = serviceDrawHash(e.view)
      if (hash !== e.drawHash) drawChanged.push(name)
      e.drawHash = hash
      e.etag = serviceEtag(hash)
    }
    this.toRender.clear()
    const removed = this.removedNames
    this.removedNames = []
    return { drawChanged: drawChanged.sort(), removed: removed.sort() }
  }

  private reverseIndex(): Map<string, Set<string>> {
    if (this.dependents) return this.dependents
    const index = new Map<string, Set<string>>()
    for (const e of this.map.values()) {
      for (const dep of e.judged.dependsOn) {
        let set = index.get(dep)
        if (!set) index.set(dep, (set = new Set()))
        set.add(e.name)
      }
    }
    this.dependents = index
    return index
  }
}
