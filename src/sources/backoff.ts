/**
 * Capped exponential backoff with jitter, reset by the caller after a long healthy run
 * (traefik pkg/job/job.go: a stream that fails after 30 s of work should not wait longer than
 * one that never came up). Jitter keeps many bridges from reconnecting in lockstep after an
 * engine restart.
 */
export interface BackoffOptions {
  initialMs: number
  factor: number
  maxMs: number
  /** Each delay is spread uniformly over ±jitter of itself (0.5 = ±50 %). */
  jitter: number
  random?: () => number
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  factor: 1.5,
  maxMs: 30_000,
  jitter: 0.5,
}

export class Backoff {
  private attempt = 0
  private readonly random: () => number

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {
    this.random = opts.random ?? Math.random
  }

  /** The delay before the next retry; each call grows it until the cap. */
  next(): number {
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * this.opts.factor ** this.attempt)
    this.attempt++
    const spread = base * this.opts.jitter * (2 * this.random() - 1)
    return Math.round(Math.min(this.opts.maxMs, Math.max(0, base + spread)))
  }

  reset(): void {
    this.attempt = 0
  }
}
