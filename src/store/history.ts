import type { Status } from '../model/status.js'
import type { Transition } from '../wire/health-document.js'

export interface HistoryOptions {
  /** Entries kept in memory, newest win. */
  capacity: number
  /** A service with at least `flapTransitions` status changes within `flapWindowMs` is flapping. */
  flapWindowMs: number
  flapTransitions: number
}

export const DEFAULT_HISTORY: HistoryOptions = {
  capacity: 1000,
  flapWindowMs: 10 * 60_000,
  flapTransitions: 5,
}

interface Entry {
  at: number
  service: string
  instance: string | null
  from: Status | null
  to: Status
  message: string
}

/**
 * Recent status transitions of services and instances, in a fixed-size ring: the memory it
 * takes is bounded whatever happens. Also knows since when each service is in its status.
 */
export class History {
  private readonly ring: (Entry | undefined)[]
  private next = 0
  private size = 0
  /** Service -> when it entered its current status. */
  private readonly since = new Map<string, number>()
  /** Service -> times of its recent status changes (for flapping), oldest first. */
  private readonly changes = new Map<string, number[]>()

  constructor(private readonly opts: HistoryOptions = DEFAULT_HISTORY) {
    this.ring = new Array<Entry | undefined>(opts.capacity)
  }

  record(entry: Entry): void {
    this.ring[this.next] = entry
    this.next = (this.next + 1) % this.opts.capacity
    this.size = Math.min(this.size + 1, this.opts.capacity)
    if (entry.instance === null) {
      this.since.set(entry.service, entry.at)
      if (entry.from !== null) {
        const list = this.changes.get(entry.service) ?? []
        list.push(entry.at)
        // Only the window matters; cap the list so a storm cannot grow it.
        if (list.length > this.opts.flapTransitions * 4)
          list.splice(0, list.length - this.opts.flapTransitions * 4)
        this.changes.set(entry.service, list)
      }
    }
  }

  sinceOf(service: string): number | undefined {
    return this.since.get(service)
  }

  /** Whether the service is flapping at `now`, and when that may change by time alone. */
  flapping(service: string, now: number): { flapping: boolean; until: number | null } {
    const list = this.changes.get(service)
    if (!list) return { flapping: false, until: null }
    const from = now - this.opts.flapWindowMs
    while (list.length > 0 && (list[0] ?? 0) <= from) list.shift()
    if (list.length === 0) {
      this.changes.delete(service)
      return { flapping: false, until: null }
    }
    const flapping = list.length >= this.opts.flapTransitions
    // The oldest change in the window ages out at this instant; the flag may drop then.
    return { flapping, until: flapping ? (list[0] ?? now) + this.opts.flapWindowMs : null }
  }

  /** Forget a service that is no longer reported, so its `since` restarts if it returns. */
  drop(service: string): void {
    this.since.delete(service)
  }

  /** Newest first, optionally for one service. */
  list(service?: string, limit = this.opts.capacity): Transition[] {
    const out: Transition[] = []
    for (let i = 0; i < this.size && out.length < limit; i++) {
      const idx = (this.next - 1 - i + this.opts.capacity) % this.opts.capacity
      const e = this.ring[idx]
      if (!e || (service !== undefined && e.service !== service)) continue
      out.push({
        at: new Date(e.at).toISOString(),
        service: e.service,
        instance: e.instance,
        from: e.from,
        to: e.to,
        message: e.message,
      })
    }
    return out
  }
}
