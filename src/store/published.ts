/**
 * How re-judged services become the served document: the bytes assembled from each service's
 * fragment, the ETag (reused, unhashed, while nothing drawn changed), and the change listeners
 * hear of. Everything is built on first use: a refresh nobody reads costs no serialization.
 */
import type { Status } from '../model/status.js'
import { httpStatusOf } from '../model/status.js'
import { assembleDelta, assembleDocument, encodeHeader, type Bytes } from '../render/document.js'
import { documentEtag } from '../render/etag.js'
import { drawnSources } from '../render/views.js'
import type { BridgeView, HealthDocument, ServiceView } from '../wire/health-document.js'

import type { ServiceEntry } from './service-entries.js'

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

/** What one flush hands over: the stack's state after it, and what it changed. */
export interface Publication {
  status: Status
  now: number
  bridge: BridgeView
  /** Every service entry, in document order. */
  ordered: readonly ServiceEntry[]
  /** The entries whose drawn part changed, and the names of the services gone. */
  drawChanged: readonly ServiceEntry[]
  removed: readonly string[]
}

export function lazily<T>(build: () => T): () => T {
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
  /** The overall status and sources' states of the last document: with draw hashes, its tag. */
  private drawnKey = ''
  /**
   * The last document's tag, reused while nothing drawn changes. Kept apart from the documents
   * so a new one never holds the previous one (and, through it, every one before).
   */
  private etagOf: (() => string) | null = null

  /** The new document, and the change for listeners, or null when nothing drawn moved. */
  publish(p: Publication): { rendered: Rendered; change: Change | null } {
    const { status, bridge, ordered, drawChanged, removed } = p
    const checkedAt = new Date(p.now).toISOString()
    const header = lazily(() => encodeHeader(status, checkedAt, bridge))
    const fragments = ordered.map((e) => e.fragment)
    const views = ordered.map((e) => e.view)
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
    const hashes = same ? [] : ordered.map((e) => e.drawHash)
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
    if (same) return { rendered, change: null }
    const delta = lazily(() =>
      assembleDelta(
        header(),
        drawChanged.map((e) => e.fragment),
        removed
      )
    )
    const change: Change = {
      rendered,
      services: drawChanged.map((e) => e.view),
      removed,
      get delta() {
        return delta()
      },
    }
    return { rendered, change }
  }
}
