/**
 * Per-container inspect coalescing for one connection. Events are hints, not data: each relevant
 * one asks for its container to be inspected. At most one inspect per container is in flight;
 * events arriving meanwhile ask for one more, so a burst (die, stop, start, restart) costs two
 * inspects and the last one always sees the latest state. Serialising per container is also what
 * keeps a late answer from overwriting a newer one.
 */
import type { Attempt } from '../async.js'
import type { DockerApi } from './docker-api.js'
import type { InspectInfo } from './map-container.js'

/** Where answers go: the inventory. */
export interface InspectTarget {
  /** One inspect answer; null when the engine no longer knows the container. */
  apply(id: string, info: InspectInfo | null): void
  isDestroyed(id: string): boolean
}

/** Answers in a row that may be skipped as superseded by an event. */
const MAX_SUPERSEDED = 3

export class InspectQueue {
  private readonly inFlight = new Set<string>()
  /** Containers in flight that had another event meanwhile. */
  private readonly inspectAgain = new Set<string>()

  constructor(
    private readonly api: Pick<DockerApi, 'inspectContainer'>,
    private readonly attempt: Attempt,
    private readonly target: InspectTarget
  ) {}

  isInFlight(id: string): boolean {
    return this.inFlight.has(id)
  }

  /** Inspect `id` soon; a failed inspect (other than 404) fails the attempt. */
  request(id: string): void {
    if (this.inFlight.has(id)) {
      this.inspectAgain.add(id)
      return
    }
    this.inFlight.add(id)
    this.run(id).catch((err: unknown) => {
      this.attempt.fail(err)
    })
  }

  private async run(id: string): Promise<void> {
    let superseded = 0
    try {
      do {
        this.inspectAgain.delete(id)
        const info = await this.api.inspectContainer(id, this.attempt.signal)
        if (this.attempt.isOver()) return
        // An event arrived while this answer was on its way: the answer may predate it, and
        // applying it would undo what the event already showed (a flicker in the history).
        // The next answer is asked for anyway; only a container that never stays still for one
        // inspect gets an answer applied regardless, every few.
        if (this.inspectAgain.has(id) && ++superseded < MAX_SUPERSEDED) continue
        superseded = 0
        this.target.apply(id, info)
      } while (this.inspectAgain.has(id) && !this.target.isDestroyed(id))
    } finally {
      // In the same turn as the last check above: an event arriving in between (stream data is
      // delivered on nextTick, between promise jobs) would otherwise be marked and never served.
      this.inFlight.delete(id)
    }
  }
}
