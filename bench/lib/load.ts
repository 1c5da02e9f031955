/**
 * HTTP load with autocannon, bounded in time and aimed at loopback only, and the A/B
 * interleaving every throughput figure uses: both servers measured in alternating order, several
 * repetitions, the median of the per-repetition ratios reported (a noisy neighbour then hurts both
 * sides of one repetition, not one side of the comparison).
 */
import autocannon from 'autocannon'

import { measureUsage, type UsageWindow } from './proc.js'
import { median, spread } from './stats.js'

export interface LoadSpec {
  method?: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  /** Static request bodies, sent in turn (each connection cycles through all of them). */
  bodies?: readonly string[]
  /** Status every answer must have; anything else counts as an error of the run. */
  expectStatus: number
  connections?: number
  /** Paced load instead of as-fast-as-possible, requests per second over all connections. */
  overallRate?: number
}

export interface LoadResult {
  /** Answers with the expected status per second. */
  rps: number
  latencyP50Ms: number
  latencyP99Ms: number
  /** Answers with another status, plus connection errors and timeouts. */
  errors: number
  bytesPerSec: number
}

const MAX_SECONDS = 60

function assertLoopback(url: string): void {
  const host = new URL(url).hostname
  if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(host)) {
    throw new Error(`load generators only target loopback; refusing ${url}`)
  }
}

export async function runLoad(url: string, spec: LoadSpec, seconds: number): Promise<LoadResult> {
  assertLoopback(url)
  const duration = Math.min(MAX_SECONDS, seconds)
  const method = spec.method ?? 'GET'
  const headers = {
    ...(spec.bodies ? { 'content-type': 'application/json' } : {}),
    ...spec.headers,
  }
  const requests = (spec.bodies ?? [undefined]).map((body) => ({
    method,
    path: spec.path,
    headers,
    ...(body === undefined ? {} : { body }),
  }))
  const result = await autocannon({
    url,
    connections: spec.connections ?? 10,
    duration,
    requests,
    timeout: 5,
    ...(spec.overallRate === undefined ? {} : { overallRate: spec.overallRate }),
  })
  const stats = result.statusCodeStats ?? {}
  const ok = stats[`${spec.expectStatus}`]?.count ?? 0
  let others = 0
  for (const [code, s] of Object.entries(stats)) {
    if (code !== String(spec.expectStatus)) others += s.count ?? 0
  }
  return {
    rps: ok / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    errors: others + result.errors + result.timeouts,
    bytesPerSec: result.throughput.average,
  }
}

export interface Side {
  label: string
  url: string
  pid: number
  spec: LoadSpec
}

export interface SideRuns {
  label: string
  rps: number[]
  latencyP99Ms: number[]
  errors: number
  cpuPct: number[]
  peakRssMiB: number
}

export interface AbResult {
  a: SideRuns
  b: SideRuns
  /** a.rps / b.rps per repetition. */
  ratios: number[]
  medianRatio: number
  /** (max - min) / median of the ratios: how much the repetitions disagreed. */
  ratioSpread: number
}

async function measured(
  side: Side,
  seconds: number
): Promise<{ load: LoadResult; usage: UsageWindow }> {
  const { result, usage } = await measureUsage(side.pid, () =>
    runLoad(side.url, side.spec, seconds)
  )
  return { load: result, usage }
}

function empty(label: string): SideRuns {
  return { label, rps: [], latencyP99Ms: [], errors: 0, cpuPct: [], peakRssMiB: 0 }
}

function add(runs: SideRuns, m: { load: LoadResult; usage: UsageWindow }): void {
  runs.rps.push(m.load.rps)
  runs.latencyP99Ms.push(m.load.latencyP99Ms)
  runs.errors += m.load.errors
  runs.cpuPct.push(m.usage.cpuPct)
  runs.peakRssMiB = Math.max(runs.peakRssMiB, m.usage.peakRssMiB)
}

/**
 * Measures A against B: one warm-up each (JIT, connection set-up), then `reps` repetitions in
 * ABBA order so neither side always runs first.
 */
export async function abCompare(
  a: Side,
  b: Side,
  opts: { reps: number; seconds: number; warmupSeconds: number }
): Promise<AbResult> {
  await runLoad(a.url, a.spec, opts.warmupSeconds)
  await runLoad(b.url, b.spec, opts.warmupSeconds)
  const ra = empty(a.label)
  const rb = empty(b.label)
  const ratios: number[] = []
  for (let i = 0; i < opts.reps; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a]
    const got = new Map<Side, { load: LoadResult; usage: UsageWindow }>()
    for (const side of order) got.set(side, await measured(side, opts.seconds))
    const ma = got.get(a)
    const mb = got.get(b)
    if (!ma || !mb) throw new Error('unreachable')
    add(ra, ma)
    add(rb, mb)
    ratios.push(ma.load.rps / mb.load.rps)
  }
  return { a: ra, b: rb, ratios, medianRatio: median(ratios), ratioSpread: spread(ratios) }
}

/** Repeated runs of one side alone (scaling tables). */
export async function repeat(
  side: Side,
  opts: { reps: number; seconds: number; warmupSeconds: number }
): Promise<SideRuns> {
  await runLoad(side.url, side.spec, opts.warmupSeconds)
  const runs = empty(side.label)
  for (let i = 0; i < opts.reps; i++) add(runs, await measured(side, opts.seconds))
  return runs
}

/** Server CPU per answered request, microseconds (median over repetitions): steadier than req/s on a busy machine. */
export function cpuPerRequestUs(runs: SideRuns): number {
  return median(runs.rps.map((rps, i) => ((runs.cpuPct[i] ?? Number.NaN) / 100 / rps) * 1e6))
}
