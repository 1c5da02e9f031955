/**
 * What the soak measures about the bridge, always from outside its process: RSS and CPU time from
 * /proc/<pid>, the event-loop delay from its own `GET /metrics` (prom-client's
 * `nodejs_eventloop_lag_p99_seconds`, whose histogram is reset at each scrape, so every sample is
 * the p99 of the interval since the previous one), and the machine's load average.
 */
import { loadavg } from 'node:os'

import { cpuSeconds, rssMiB } from '../lib/proc.js'

export interface Sample {
  /** Seconds since the load started. */
  t: number
  rssMiB: number
  /** Bridge CPU over the interval, % of one core. */
  cpuPct: number
  /** Event-loop delay p99 (ms) and max (ms) over the interval, from /metrics; NaN if unread. */
  loopP99Ms: number
  loopMaxMs: number
  heapUsedMiB: number
  /** Memory outside the JS heap that V8 tracks (Buffers, ArrayBuffers), MiB. */
  externalMiB: number
  load1: number
  requests: number
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([^\\s]+)`, 'm').exec(text)
  return m?.[1] === undefined ? Number.NaN : Number(m[1])
}

export class Sampler {
  readonly samples: Sample[] = []
  private timer: NodeJS.Timeout | undefined
  private lastCpu: number
  private lastAt: number

  constructor(
    private readonly pid: number,
    private readonly url: string,
    private readonly startedAt: number,
    private readonly requests: () => number,
    private readonly onSample: (s: Sample) => void
  ) {
    this.lastCpu = cpuSeconds(pid)
    this.lastAt = performance.now()
  }

  /** A scrape now resets the loop histogram, so the first interval starts clean. */
  async start(everyMs: number): Promise<void> {
    await this.scrape()
    this.timer = setInterval(() => {
      void this.sample()
    }, everyMs)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async scrape(): Promise<string> {
    try {
      const res = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(10_000) })
      return await res.text()
    } catch {
      return ''
    }
  }

  async sample(): Promise<Sample | null> {
    let rss: number
    let cpu: number
    try {
      rss = rssMiB(this.pid)
      cpu = cpuSeconds(this.pid)
    } catch {
      return null // the process is gone; the verdict says so
    }
    const now = performance.now()
    const cpuPct = ((cpu - this.lastCpu) / ((now - this.lastAt) / 1000)) * 100
    this.lastCpu = cpu
    this.lastAt = now
    const text = await this.scrape()
    const s: Sample = {
      t: (Date.now() - this.startedAt) / 1000,
      rssMiB: rss,
      cpuPct,
      loopP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
      loopMaxMs: metric(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
      heapUsedMiB: metric(text, 'nodejs_heap_size_used_bytes') / 1024 / 1024,
      externalMiB: metric(text, 'nodejs_external_memory_bytes') / 1024 / 1024,
      load1: loadavg()[0] ?? Number.NaN,
      requests: this.requests(),
    }
    this.samples.push(s)
    this.onSample(s)
    return s
  }
}
