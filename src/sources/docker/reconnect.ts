/**
 * When the Docker source tries again, and when it stops trying: a capped jittered backoff that
 * resets after a connection that followed long enough (traefik pkg/job/job.go: a stream that fails
 * after some work should not wait longer than one that never came up), one immediate
 * renegotiation when the engine refused our pinned API version, and the give-up timer.
 */
import type { Clock } from '../../clock.js'

import { Backoff, type BackoffOptions } from '../backoff.js'
import { DockerApiError } from './docker-api.js'

/**
 * A connection that followed this long resets the backoff. Reaching `following` already proved
 * the engine answers (version, events, list, inspects); a stream lost after that is a routine cut
 * (a socket proxy's stream duration limit, Tecnativa's 10 minutes, or an idle timeout of seconds),
 * and its reconnect must not wait longer each time: Traefik's 30 s would let a proxy that cuts
 * every 10 s grow the wait to the 30 s cap, past DOCKER_STALE_AFTER, so that every cut turned
 * the whole project unknown. The second it has to last keeps a stream that the engine ends the
 * moment it is opened from looping without a backoff.
 */
export const RESET_BACKOFF_AFTER_MS = 1_000

export interface ReconnectOptions {
  backoff: BackoffOptions
  /** A connection that followed this long resets the backoff. */
  resetBackoffAfterMs: number
}

/** What a lost or failed connection means for the next one. */
export interface Loss {
  delayMs: number
  /** The connection had reached `following` (a lost stream, not a failed connect). */
  wasFollowing: boolean
  /** The first failure since the source last followed. */
  firstFailure: boolean
}

export class ReconnectPolicy {
  private readonly backoff: Backoff
  private readonly resetBackoffAfterMs: number
  private followingSince: number | null = null
  private versionRetried = false
  /** Failed connections since the source last reached `following`. */
  private failures = 0

  constructor(options: ReconnectOptions) {
    this.backoff = new Backoff(options.backoff)
    this.resetBackoffAfterMs = options.resetBackoffAfterMs
  }

  /** The connection reached `following`. */
  followed(now: number): void {
    this.followingSince = now
    this.versionRetried = false
    this.failures = 0
  }

  /** The connection ended or failed with `error`. */
  lost(error: unknown, now: number): Loss {
    const since = this.followingSince
    if (since !== null && now - since >= this.resetBackoffAfterMs) this.backoff.reset()
    this.followingSince = null
    // An engine that refused our pinned version (upgraded under us) gets one immediate renegotiation.
    const renegotiate =
      error instanceof DockerApiError && error.kind === 'version' && !this.versionRetried
    if (renegotiate) this.versionRetried = true
    return {
      delayMs: renegotiate ? 0 : this.backoff.next(),
      wasFollowing: since !== null,
      firstFailure: this.failures++ === 0,
    }
  }
}

/**
 * Fires once, `afterMs` after the engine was first unreachable, unless the source followed again
 * first (`disarm`). `fire` answers whether it really gave up; if not, the timer can be armed again.
 * 0 = never.
 */
export class GiveUpTimer {
  private timer: NodeJS.Timeout | undefined
  private gaveUp = false

  constructor(
    private readonly afterMs: number,
    private readonly clock: Clock,
    private readonly fire: () => boolean
  ) {}

  arm(unreachableSince: number): void {
    if (this.afterMs <= 0 || this.gaveUp || this.timer !== undefined) return
    const wait = Math.max(0, unreachableSince + this.afterMs - this.clock.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.gaveUp = this.fire()
    }, wait)
  }

  disarm(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }
}
