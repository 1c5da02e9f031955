/**
 * HTTP load with autocannon (loopback only), and the A/B method every throughput figure uses:
 * both servers in alternating order (ABBA), several repetitions, the median of the
 * per-repetition ratios; a noisy neighbour then hurts both sides of one repetition.
 */
import autocannon from 'autocannon'

import { median } from './stats.js'
import { cpuSeconds } from './proc.js'

export interface LoadSpec {
  method?: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  /** Request bodies, sent in turn. */
  bodies?: readonly string[]
  /** Any other status counts as an error of the run. */
  expectStatus: number
}

export interface LoadResult {
  rps: number
  p99Ms: number
  errors: number
  /** Server CPU per answer, µs, from /proc. */
  cpuUs: number
}

export async function runLoad(
  url: string,
  pid: number,
  spec: LoadSpec,
  seconds: number
): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing non-loopback ${url}`)
  const headers = {
    ...(spec.bodies ? { 'content-type': 'application/json' } : {}),
    ...spec.headers,
  }
  const requests = (spec.bodies ?? [undefined]).map((body) => ({
    method: spec.method ?? 'GET',
    path: spec.path,
    headers,
    ...(body === undefined ? {} : { body }),
  }))
  const cpu0 = cpuSeconds(pid)
  const r = await autocannon({ url, connections: 10, duration: seconds, requests, timeout: 5 })
  const cpu = cpuSeconds(pid) - cpu0
  const stats = r.statusCodeStats ?? {}
  const ok = stats[`${spec.expectStatus}`]?.count ?? 0
  const total = Object.values(stats).reduce((n, s) => n + (s.count ?? 0), 0)
  return {
    rps: ok / r.duration,
    p99Ms: r.latency.p99,
    errors: total - ok + r.errors + r.timeouts,
    cpuUs: (cpu / Math.max(1, ok)) * 1e6,
  }
}

export interface Side {
  url: string
  pid: number
  spec: LoadSpec
}

export interface AbResult {
  a: LoadResult[]
  b: LoadResult[]
  /** a.rps / b.rps per repetition, and their median. */
  ratios: number[]
  ratio: number
}

/** A against B: a warm-up each, then `reps` repetitions in ABBA order. */
export async function abCompare(
  a: Side,
  b: Side,
  opts: { reps: number; seconds: number }
): Promise<AbResult> {
  const run = (s: Side, seconds: number) => runLoad(s.url, s.pid, s.spec, seconds)
  await run(a, 1)
  await run(b, 1)
  const out: AbResult = { a: [], b: [], ratios: [], ratio: Number.NaN }
  for (let i = 0; i < opts.reps; i++) {
    const first = i % 2 === 0
    const ra = first ? await run(a, opts.seconds) : null
    const rb = await run(b, opts.seconds)
    const ra2 = ra ?? (await run(a, opts.seconds))
    out.a.push(ra2)
    out.b.push(rb)
    out.ratios.push(ra2.rps / rb.rps)
  }
  out.ratio = median(out.ratios)
  return out
}
