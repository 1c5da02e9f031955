/**
 * When the store re-judges: a change that may alter a status in this event-loop turn (coalesced
 * behind one `setImmediate`), heartbeat bookkeeping at most once per `lazyIntervalMs`, and time
 * at the earliest deadline (one timer). It owns every timer of the store and closes them all.
 */
import type { Clock } from '../clock.js'

// setTimeout cannot wait longer than this; a farther deadline is re-armed when the timer fires.
const MAX_TIMER_MS = 2 ** 31 - 1

export interface FlushTargets {
  /** Re-judge what is urgent (changed or due); bookkeeping may wait. */
  flushUrgent(): void
  /** Re-judge everything pending, bookkeeping included. */
  flushAll(): void
  /** The earliest deadline still pending, or null. */
  nextDeadline(): number | null
}

export class FlushScheduler {
  private immediate: NodeJS.Immediate | null = null
  private lazyTimer: NodeJS.Timeout | null = null
  private deadlineTimer: NodeJS.Timeout | null = null
  private armedAt: number | null = null
  private lastAllAt = -Infinity
  private closed = false

  constructor(
    private readonly targets: FlushTargets,
    private readonly clock: Clock,
    private readonly lazyIntervalMs: number
  ) {}

  /** Something may have changed a status: re-judge this turn. */
  urgent(): void {
    if (this.immediate || this.closed) return
    this.immediate = setImmediate(() => {
      this.immediate = null
      this.targets.flushUrgent()
    })
  }

  /** Only bookkeeping moved (lastSeenAt, details): within `lazyIntervalMs`, not on every write. */
  lazy(): void {
    if (this.lazyTimer || this.closed) return
    const wait = Math.max(0, this.lastAllAt + this.lazyIntervalMs - this.clock.now())
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = null
      this.targets.flushAll()
    }, wait)
    this.lazyTimer.unref()
  }

  /** Called by the store after each flush: bookkeeping of a full one is done. */
  flushed(all: boolean, now: number): void {
    if (all) {
      this.lastAllAt = now
      if (this.lazyTimer) clearTimeout(this.lazyTimer)
      this.lazyTimer = null
    }
    this.armDeadline(now)
  }

  /** Arms the one deadline timer at the earliest deadline, unless it already is. */
  armDeadline(now: number): void {
    const at = this.targets.nextDeadline()
    if (at === this.armedAt || this.closed) return
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    this.deadlineTimer = null
    this.armedAt = at
    if (at === null) return
    this.deadlineTimer = setTimeout(
      () => {
        this.deadlineTimer = null
        this.armedAt = null
        // Timers run on a monotonic clock and may fire a hair before the wall-clock deadline:
        // the flush then finds nothing due and re-arms for the rest.
        this.targets.flushUrgent()
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - now))
    )
    this.deadlineTimer.unref()
  }

  close(): void {
    this.closed = true
    if (this.immediate) clearImmediate(this.immediate)
    if (this.lazyTimer) clearTimeout(this.lazyTimer)
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    this.immediate = this.lazyTimer = this.deadlineTimer = null
  }
}
