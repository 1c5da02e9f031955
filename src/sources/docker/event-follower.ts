/**
 * The events of one connection, from bytes to `ContainerEvent`s: cut into lines by
 * `LineSplitter`, parsed by `parseEventLine`, held back while the sync runs, de-duplicated (across
 * reconnects too: a `since` replay repeats what was handled) and handed on once each, in order.
 *
 * The stream is read promptly (the engine drops a subscriber that lags 100 ms) and nothing here
 * throws: every way the stream can end fails the attempt, with a reason for the log and status.
 */
import type { Readable } from 'node:stream'

import type { Clock } from '../../clock.js'
import type { Logger } from '../../logger.js'

import type { Attempt } from '../async.js'
import type { DockerApi } from './docker-api.js'
import { describeError } from '../errors.js'
import { StreamEndedError } from './errors.js'
import { LineSplitter } from './event-stream.js'
import { eventFilters, eventKey, parseEventLine, type ContainerEvent } from './events.js'
import type { RecentKeys } from './recent-keys.js'

/** How far back a reconnect asks the engine to replay (its ring holds 256 events anyway). */
const MAX_REPLAY_MS = 5 * 60_000

/**
 * Opens the project's filtered `/events`. A stream that opens after the attempt already failed is
 * closed at once.
 *
 * `since` covers the gap between the engine flushing the response headers and subscribing us (it
 * does both in that order). After a reconnect it also replays what the engine's ring still holds
 * since `lastEventAt`, which is a bonus only: the full list that follows is what makes the state
 * right.
 */
export function subscribe(
  api: Pick<DockerApi, 'events'>,
  project: string,
  lastEventAt: number | null,
  clock: Clock,
  attempt: Attempt
): Promise<Readable> {
  const now = clock.now()
  const from =
    lastEventAt === null
      ? now - 1000
      : Math.max(now - MAX_REPLAY_MS, Math.min(lastEventAt, now - 1000))
  const opening = api.events(
    { since: Math.floor(from / 1000), filters: eventFilters(project) },
    attempt.signal
  )
  opening.then(
    (stream) => {
      if (!attempt.isOver()) return
      stream.on('error', () => undefined)
      stream.destroy()
    },
    () => undefined
  )
  return opening
}

export interface EventFollowerOptions {
  log: Logger
  /** Events that may arrive while the sync runs before the attempt gives up. */
  maxBufferedEvents: number
  /** Keys of events already handled; shared by every connection of one source. */
  seen: RecentKeys
  /** Each new event, once following. */
  onEvent: (event: ContainerEvent) => void
}

export class EventFollower {
  private readonly splitter = new LineSplitter()
  private following = false
  private buffered: ContainerEvent[] = []
  /** Lines of this connection that were not events; the first one is worth a warning. */
  private unreadableLines = 0

  constructor(
    private readonly stream: Readable,
    private readonly attempt: Attempt,
    private readonly options: EventFollowerOptions
  ) {
    this.listen()
  }

  /** The sync is done: hands on what arrived meanwhile, then each event as it comes. */
  follow(): void {
    this.following = true
    const held = this.buffered
    this.buffered = []
    for (const event of held) this.deliver(event)
  }

  private listen(): void {
    const { stream, attempt, splitter } = this
    const end = (why: string) => {
      const mid = splitter.buffered > 0 ? ' in the middle of an event' : ''
      attempt.fail(new StreamEndedError(`${why}${mid}`))
    }
    attempt.signal.addEventListener(
      'abort',
      () => {
        stream.destroy()
      },
      { once: true }
    )
    stream.on('data', (chunk: Buffer | string) => {
      try {
        const lines = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
        for (const line of lines) this.onLine(line)
      } catch (err) {
        attempt.fail(err)
      }
    })
    stream.on('error', (err) => {
      end(`the events stream failed (${describeError(err)})`)
    })
    stream.on('end', () => {
      end('the engine ended the events stream')
    })
    stream.on('close', () => {
      end('the events stream closed')
    })
  }

  private onLine(line: string): void {
    const parsed = parseEventLine(line)
    if (!parsed.ok) {
      if (!parsed.ignored) this.unreadable(parsed.why)
      return
    }
    if (this.following) this.deliver(parsed.event)
    else if (this.buffered.push(parsed.event) > this.options.maxBufferedEvents) {
      this.attempt.fail(
        new Error(`more than ${this.options.maxBufferedEvents} events arrived during the sync`)
      )
    }
  }

  /** Warns once per connection: one broken peer must not flood the log, a new one is news. */
  private unreadable(why: string): void {
    this.unreadableLines++
    const level = this.unreadableLines === 1 ? 'warn' : 'debug'
    this.options.log[level](
      { why, count: this.unreadableLines },
      'ignoring an unreadable docker event'
    )
  }

  private deliver(event: ContainerEvent): void {
    if (this.options.seen.add(eventKey(event))) this.options.onEvent(event)
  }
}
