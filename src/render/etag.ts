/**
 * Weak ETags over what a status display draws: statuses, messages, kinds, impact, flapping, the
 * set of services and instances and what is known of each (container state, restarts, ...); not
 * heartbeat bookkeeping (`lastSeenAt`, `details`, clock skew) or `checkedAt`. A poller gets
 * `304` until something it would draw is different. The document's tag is a hash of the
 * services' own hashes, so a change costs the hash of one service, not of the whole document.
 */
import { createHash, type Hash } from 'node:crypto'

import type { InstanceView, ServiceView } from '../wire/health-document.js'

const TAG_CHARS = 27

/** 27 base64url characters (160 bits) of SHA-1: plenty to tell two versions apart. */
export function tagHash(text: string | Uint8Array): string {
  return createHash('sha1').update(text).digest('base64url').slice(0, TAG_CHARS)
}

function tagOf(h: Hash): string {
  return `W/"${h.digest('base64url').slice(0, TAG_CHARS)}"`
}

/**
 * Everything of an instance but heartbeat bookkeeping (`lastSeenAt`, `details`, clock skew):
 * a container's state, health, exit and restarts are drawn (the status page lists them) and may
 * change while status and message stay, e.g. one more restart of a crash-looping container.
 */
function hashInstance(h: Hash, i: InstanceView): void {
  h.update(`${i.id}\u0002${i.host}\u0002${i.status}\u0002${i.message}\u0002`)
  const d = i.docker
  if (d !== null)
    h.update(
      `${d.containerId}\u0003${d.name}\u0003${d.state}\u0003${d.health}\u0003${d.failingStreak}\u0003${String(d.exitCode)}\u0003${String(d.oomKilled)}\u0003${d.restartCount}\u0003${d.recentRestarts}\u0003${String(d.startedAt)}\u0003${String(d.finishedAt)}\u0003${String(d.lastProbeOutput)}`
    )
  h.update('\u0002')
  const b = i.heartbeat
  if (b !== null)
    h.update(
      `${String(b.expected)}\u0003${b.timeoutSeconds}\u0003${String(b.reported)}\u0003${String(b.error)}`
    )
  h.update('\u0000')
}

/** The hash of what is drawn for one service (its part of the document's ETag). */
export function serviceDrawHash(s: ServiceView): string {
  const h = createHash('sha1')
  h.update(
    `${s.name}\u0001${s.status}\u0001${s.kind}\u0001${String(s.critical)}\u0001${s.message}\u0001${String(s.flapping)}\u0001${s.since}\u0001${s.impactedBy.join(',')}\u0001${s.dependsOn.join(',')}\u0001${s.job?.state ?? ''}\u0001${String(s.job?.exitCode)}\u0000`
  )
  for (const i of s.instances) hashInstance(h, i)
  return h.digest('base64url')
}

/** `GET /health?service=X`'s tag. */
export function serviceEtag(drawHash: string): string {
  return `W/"${drawHash.slice(0, TAG_CHARS)}"`
}

/** `GET /health?service=X&instance=Y`'s tag. */
export function instanceEtag(i: InstanceView): string {
  const h = createHash('sha1')
  hashInstance(h, i)
  return tagOf(h)
}

/** What the header contributes to the document's tag: the overall status and the sources' states. */
export interface DrawnHeader {
  status: string
  sources: string
}

/** The whole document's tag, from the header and each service's draw hash in document order. */
export function documentEtag(header: DrawnHeader, drawHashes: Iterable<string>): string {
  const h = createHash('sha1')
  h.update(`${header.status}\u0000${header.sources}\u0000`)
  for (const d of drawHashes) h.update(d)
  return tagOf(h)
}
