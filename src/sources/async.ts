/**
 * Small async building blocks of the sources (Docker, peers). None of them knows about Docker: a unit of
 * work that fails as a whole, a repeating task, a bounded wait, a bounded-concurrency map and an
 * abortable sleep.
 */

/**
 * One try at something long-lived (for the Docker source: one connection to the engine). Any part
 * of it may `fail`; the first reason wins, and `signal` aborts everything else started under it
 * (requests, the events stream, timers). Ending it normally is failing it with a reason too.
 */
export class Attempt {
  private readonly controller = new AbortController()
  private rejectFailed: (reason: unknown) => void = () => undefined
  /** Rejects with the first failure; never resolves. */
  readonly failed: Promise<never>

  constructor() {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject
    })
    // Awaited by the owner or raced in unlessFailed(); this only keeps Node quiet when nobody is
    // waiting at the moment it fails.
    this.failed.catch(() => undefined)
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** A method, not a getter: it changes across awaits, which narrowing must not assume away. */
  isOver(): boolean {
    return this.controller.signal.aborted
  }

  fail(reason: unknown): void {
    if (this.controller.signal.aborted) return
    this.rejectFailed(reason)
    this.controller.abort(reason)
  }

  /** Resolves with `promise`, unless the attempt failed first: then rejects with its reason. */
  unlessFailed<T>(promise: Promise<T>): Promise<T> {
    // The side that loses must not become an unhandled rejection.
    promise.catch(() => undefined)
    return Promise.race([promise, this.failed])
  }
}

/**
 * Runs `task` `everyMs` after the previous run finished (never two at once), until `signal`
 * aborts; the pending timer is cleared on abort. A run that rejects stops the repetition and
 * goes to `onError`.
 */
export function repeat(
  task: () => Promise<void>,
  everyMs: number,
  signal: AbortSignal,
  onError: (err: unknown) => void
): void {
  let timer: NodeJS.Timeout | undefined
  const run = () => {
    task().then(
      () => {
        if (!signal.aborted) timer = setTimeout(run, everyMs)
      },
      (err: unknown) => {
        onError(err)
      }
    )
  }
  if (signal.aborted) return
  timer = setTimeout(run, everyMs)
  signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer)
    },
    { once: true }
  )
}

/**
 * Runs `fn` with a signal that aborts when `signal` does, or after `ms` (as a `TimeoutError`, like
 * `AbortSignal.timeout`); unlike that one, the timer is cleared as soon as `fn` settles.
 */
export async function withTimeout<T>(
  ms: number,
  signal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'))
  }, ms)
  const forward = () => {
    controller.abort(signal.reason)
  }
  if (signal.aborted) forward()
  else signal.addEventListener('abort', forward, { once: true })
  try {
    return await fn(controller.signal)
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', forward)
  }
}

/** Maps `items` through `fn`, at most `limit` at a time; results keep the order of `items`. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** Waits `ms`, or less when `signal` aborts first; never rejects, and leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
