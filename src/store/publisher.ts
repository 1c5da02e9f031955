/**
 * The served side of the store: the judged document, built lazily from the services' rendered
 * entries, and the listeners told of every change a display would draw (with the services
 * that changed, so the stream can send deltas). A document that draws the same keeps its ETag
 * without hashing anything.
 */
import { httpStatusOf, type Status } from '../model/status.js'
import { assembleDelta, assembleDocument, encodeHeader, type Bytes } from '../render/document.js'
import { documentEtag } from '../render/etag.js'
import { drawnSources } from '../render/views.js'
import type { BridgeView, HealthDocument, ServiceView } from '../wire/health-document.js'

import type { ServiceEntries } from './service-entries.js'

/** A judged document, ready to serve; `doc` and `body` are built on first use. */
export interface Rendered {
  readonly doc: HealthDocument
  readonly body: Bytes
  readonly etag: string
  readonly httpStatus: 200 | 503
}

/** What changed, for listeners: the services a display draws differently, and those gone. */
export interface Change {
  readonly rendered: Rendered
  readonly services: readonly ServiceView[]
  readonly removed: readonly string[]
  /** The `event: delta` payload (JSON), built on first use. */
  readonly delta: Bytes
}

export type Listener = (change: Change) => void

/** What a re-judge changed (`rejudge.ts`): the overall status, and what draws differently. */
export interface Redrawn {
  status: Status
  /** Services whose drawing changed, and services no longer reported. */
  drawChanged: readonly string[]
  removed: readonly string[]
}

function lazily<T>(build: () => T): () => T {
  let value: T | undefined
  let built = false
  return () => {
    if (!built) {
      value = build()
      built = true
    }
    return value as T
  }
}

export class DocumentPublisher {
  private readonly listeners = new Set<Listener>()
  private last: Rendered | null = null
  /** The overall status and sources' states of the last document: with draw hashes, its tag. */
  private drawnKey = ''
  /**
   * The last document's tag, reused while nothing drawn changes. Kept apart from `last` so a new
   * document never holds the previous one (and, through it, every one before: the soak's leak).
   */
  private etagOf: (() => string) | null = null

  /** The last document published, null before the first. */
  get rendered(): Rendered | null {
    return this.last
  }

  /** Called for every change a display would draw (the ETag changed). Returns an unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.listeners.clear()
  }

  /** The new document (built lazily), and the change for listeners if its ETag moved. */
  publish(judged: Redrawn, now: number, bridge: BridgeView, entries: ServiceEntries): Rendered {
    const { status, drawChanged, removed } = judged
    const checkedAt = new Date(now).toISOString()
    const header = lazily(() => encodeHeader(status, checkedAt, bridge))
    const order = entries.ordered()
    const fragments = order.map((e) => e.fragment)
    const views = order.map((e) => e.view)
    const drawn = { status, sources: drawnSources(bridge) }
    const drawnKey = `${drawn.status}\u0000${drawn.sources}`
    const previousEtag = this.etagOf
    // What a display draws is the same: the same tag, and no hashing of the whole document.
    const same =
      previousEtag !== null &&
      drawChanged.length === 0 &&
      removed.length === 0 &&
      drawnKey === this.drawnKey
    this.drawnKey = drawnKey
    const hashes = same ? [] : order.map((e) => e.drawHash)
    const etag = same ? previousEtag : lazily(() => documentEtag(drawn, hashes))
    this.etagOf = etag
    const doc = lazily((): HealthDocument => ({ status, checkedAt, bridge, services: views }))
    const body = lazily(() => assembleDocument(header(), fragments))
    const rendered: Rendered = {
      get doc() {
        return doc()
      },
      get body() {
        return body()
      },
      get etag() {
        return etag()
      },
      httpStatus: httpStatusOf(status),
    }
    this.last = rendered
    if (same || this.listeners.size === 0) return rendered
    const changed = drawChanged.flatMap((n) => entries.get(n) ?? [])
    const delta = lazily(() =>
      assembleDelta(
        header(),
        changed.map((e) => e.fragment),
        removed
      )
    )
    const change: Change = {
      rendered,
      services: changed.map((e) => e.view),
      removed,
      get delta() {
        return delta()
      },
    }
    for (const l of this.listeners) l(change)
    return rendered
  }
}
