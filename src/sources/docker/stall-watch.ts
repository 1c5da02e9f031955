/**
 * Telling a stalled events stream from a quiet one. The engine sends no keep-alives, so a
 * filtered stream of a quiet project is silent for hours and silence proves nothing. A stream
 * that stalled without closing (a socket proxy or a NAT entry that keeps the connection and
 * passes no more bytes) shows only when the engine's own list says something changed that no
 * event reported: every change of a container's state (created, running, paused, exited, gone)
 * comes with an event in the subscribed list.
 *
 * The reconciliation hands over the differences the stream should have reported (the inventory
 * leaves out those an inspect is still settling, see `ContainerInventory.reconcile`). An event
 * for the container arriving after the list, within `STALL_GRACE_MS`, explains it: the list
 * raced the event. A difference still unexplained then means the stream missed it: stalled, or
 * the engine dropped events for us; either way the stream can no longer be trusted, and a
 * reconnect's full resync is the cure. An event from before the list explains nothing: it was
 * about an earlier change, already applied. Pure: the caller passes the time.
 */

/**
 * How long an event may lag the list's view of its change. The engine writes an event to its
 * subscribers as the state changes, so a live stream delivers it within milliseconds; 5 s leaves
 * room for a loaded machine, and bounds detection at `DOCKER_RECONCILE_EVERY` + 5 s after the
 * first change the stream missed.
 */
export const STALL_GRACE_MS = 5_000

interface Check {
  ids: readonly string[]
  listedAt: number
}

export class StallWatch {
  /** When an event for each container last arrived, kept only while a check may need it. */
  private readonly lastEvent = new Map<string, number>()
  private checks: Check[] = []

  constructor(private readonly graceMs = STALL_GRACE_MS) {}

  /** An event for container `id` arrived at `now`. */
  event(id: string, now: number): void {
    this.lastEvent.set(id, now)
  }

  /**
   * A list taken at `listedAt` showed changes to `ids` (new, changed or gone) that the stream
   * should have reported. Returns when to call `unexplained`, or null when there are none.
   */
  differed(ids: readonly string[], listedAt: number): number | null {
    this.prune(listedAt)
    const open = ids.filter((id) => !this.explained(id, listedAt))
    if (open.length === 0) return null
    this.checks.push({ ids: open, listedAt })
    return listedAt + this.graceMs
  }

  /** The containers whose change no event reported in time (due checks only); [] if none. */
  unexplained(now: number): string[] {
    const due = this.checks.filter((c) => c.listedAt + this.graceMs <= now)
    this.checks = this.checks.filter((c) => c.listedAt + this.graceMs > now)
    return due.flatMap((c) => c.ids.filter((id) => !this.explained(id, c.listedAt)))
  }

  private explained(id: string, listedAt: number): boolean {
    const at = this.lastEvent.get(id)
    return at !== undefined && at >= listedAt
  }

  /** Drops events older than every list a check is still pending for (and than `listedAt`). */
  private prune(listedAt: number): void {
    const oldest = Math.min(listedAt, ...this.checks.map((c) => c.listedAt))
    for (const [id, at] of this.lastEvent) if (at < oldest) this.lastEvent.delete(id)
  }
}
