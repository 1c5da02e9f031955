/**
 * Every request the load sends, counted by kind and status code, with a latency reservoir per
 * kind (bounded memory for long runs). Status 0 is a connection that closed without an answer.
 */
export interface KindTally {
  statuses: Map<number, number>
  latencies: number[]
  seen: number
  networkErrors: number
}

const RESERVOIR = 50_000

export class Tally {
  readonly kinds = new Map<string, KindTally>()
  /** Network errors retried once (a keep-alive connection closed just as it was reused). */
  retries = 0

  record(kind: string, status: number | null, ms: number): void {
    let t = this.kinds.get(kind)
    if (!t) {
      t = { statuses: new Map(), latencies: [], seen: 0, networkErrors: 0 }
      this.kinds.set(kind, t)
    }
    if (status === null) t.networkErrors++
    else t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1)
    t.seen++
    if (t.latencies.length < RESERVOIR) t.latencies.push(ms)
    else {
      const j = Math.floor(Math.random() * t.seen)
      if (j < RESERVOIR) t.latencies[j] = ms
    }
  }

  total(): number {
    let n = 0
    for (const t of this.kinds.values()) n += t.seen
    return n
  }

  /** One request, timed, its body read. A network error is retried once, as real clients do. */
  async fetch(kind: string, url: string, init?: RequestInit): Promise<Response | null> {
    const start = performance.now()
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) })
        await res.arrayBuffer()
        this.record(kind, res.status, performance.now() - start)
        return res
      } catch {
        if (attempt === 0) {
          this.retries++
          continue
        }
        this.record(kind, null, performance.now() - start)
        return null
      }
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
export const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo)
