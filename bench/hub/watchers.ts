/**
 * The two ways a WebUI learns of a change at the hub, as clients outside the process: the SSE
 * stream (a whole document, then deltas: the changed services' whole objects), and a poller of
 * `GET /health?service=&instance=`. Each keeps the last status of every instance it saw and
 * says when one changed, by the bench's clock.
 */
import { SseParser } from '../../src/client/sse.js'

interface Instance {
  id: string
  status: string
}
interface Service {
  name: string
  instances: Instance[]
}

type Seen = (key: string, status: string, at: number) => void

/** `service/instance` keys of every instance of a document or delta, with their statuses. */
function statuses(services: readonly Service[]): [string, string][] {
  return services.flatMap((s) =>
    s.instances.map((i): [string, string] => [`${s.name}/${i.id}`, i.status])
  )
}

export class StreamWatcher {
  private readonly controller = new AbortController()
  private readonly status = new Map<string, string>()
  private listeners = new Set<Seen>()
  private reading: Promise<void> | null = null

  constructor(private readonly url: string) {}

  /** Opens the stream; resolves once the first whole document is in. */
  async open(): Promise<void> {
    const res = await fetch(`${this.url}/health/stream`, {
      headers: { accept: 'text/event-stream' },
      signal: this.controller.signal,
    })
    if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`)
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    const parser = new SseParser()
    let first: () => void = () => undefined
    const synced = new Promise<void>((r) => (first = r))
    this.reading = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          const at = performance.now()
          for (const e of parser.push(value)) {
            if (e.event !== 'health' && e.event !== 'delta') continue
            const body = JSON.parse(e.data) as { services: Service[] }
            for (const [key, status] of statuses(body.services)) this.record(key, status, at)
            if (e.event === 'health') first()
          }
        }
      } catch {
        // Closed by close().
      }
    })()
    await synced
  }

  private record(key: string, status: string, at: number): void {
    if (this.status.get(key) === status) return
    this.status.set(key, status)
    for (const l of this.listeners) l(key, status, at)
  }

  get size(): number {
    return this.status.size
  }

  /** When `key` shows `status` (now, if it already does). */
  when(key: string, status: string, timeoutMs: number): Promise<number> {
    return waitForStatus(this.listeners, () => this.status.get(key), key, status, timeoutMs)
  }

  async close(): Promise<void> {
    this.controller.abort()
    await this.reading
  }
}

/** Polls one instance back to back with a fixed pause, as a fast WebUI poller would. */
export class Poller {
  private readonly listeners = new Set<Seen>()
  private last: string | undefined
  private stopped = false
  private loop: Promise<void> | null = null
  /** Requests answered. */
  polls = 0

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly everyMs: number
  ) {}

  start(): void {
    const [service = '', instance = ''] = this.key.split('/')
    const target = `${this.url}/health?service=${encodeURIComponent(service)}&instance=${encodeURIComponent(instance)}`
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const res = await fetch(target)
          const at = performance.now()
          const body = (await res.json()) as { status?: string }
          this.polls++
          if (body.status !== undefined && body.status !== this.last) {
            this.last = body.status
            for (const l of this.listeners) l(this.key, body.status, at)
          }
        } catch {
          // A failed poll is retried like any other.
        }
        await new Promise((r) => setTimeout(r, this.everyMs))
      }
    })()
  }

  when(status: string, timeoutMs: number): Promise<number> {
    return waitForStatus(this.listeners, () => this.last, this.key, status, timeoutMs)
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
  }
}

function waitForStatus(
  listeners: Set<Seen>,
  current: () => string | undefined,
  key: string,
  status: string,
  timeoutMs: number
): Promise<number> {
  if (current() === status) return Promise.resolve(performance.now())
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listeners.delete(listener)
      reject(new Error(`${key} did not turn ${status} within ${timeoutMs} ms`))
    }, timeoutMs)
    const listener: Seen = (k, s, at) => {
      if (k !== key || s !== status) return
      clearTimeout(timer)
      listeners.delete(listener)
      resolve(at)
    }
    listeners.add(listener)
  })
}
