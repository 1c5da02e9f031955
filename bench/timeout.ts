/**
 * Heartbeat timeouts measured from outside: the bridge as `npm start` runs it, an observer
 * process (bench/servers/observer.ts: an SSE client and pollers), and this runner sending the
 * heartbeats and reading the bridge's CPU and memory from /proc.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import type { Message, Report, Target } from './servers/observer.js'
import { layout, paced, postHeartbeat, heartbeatBody, type InstanceRef } from './lib/heartbeats.js'
import {
  cpuSeconds,
  rssMiB,
  runQueueMs,
  spawnNode,
  startBridge,
  type ChildServer,
} from './lib/proc.js'
import { fmt, mdTable, verdictOf, type BenchContext, type BenchReport } from './lib/report.js'
import { distribution, type Distribution } from './lib/stats.js'

const SIZES = [50, 500, 5000]
const PER_SERVICE = 25
const WINDOW_MS = 3000
/** Longer than registration + refresh + the bookkeeping second: only deadlines flip. */
const TIMEOUT_MS = 10_000
const ARRIVALS_PER_S = 2000
const POLLED = 50
const TARGET = { p99Ms: 20, cpuMs: 1, singleShare: 0.05, idleMiB: 90, loadedMiB: 130 }

interface Late extends Distribution {
  early: number
  missed: number
}

interface Run {
  n: number
  registration: { perSecond: number; latency: Distribution; cpuUs: number }
  rss: { idle: number; settled: number; peak: number }
  docBytes: number
  single: { bytes: number; events: number }
  flips: { bytes: number; events: number; cpuMs: number }
  sse: Late
  poll: Late
  polls: number
  /** The bridge's main thread runnable but waiting for a CPU during the flips (all cycles). */
  waitedMs: number
}

type Observer = Omit<ChildServer, 'url'>

function ask<T>(observer: Observer, m: Message): Promise<T> {
  return new Promise((resolve, reject) => {
    observer.child.once('message', (answer) => {
      resolve(answer as T)
    })
    observer.child.once('exit', () => {
      reject(new Error('the observer exited'))
    })
    observer.child.send(m)
  })
}

function lateness(values: (number | null)[]): Late {
  const seen = values.filter((v): v is number => v !== null)
  return {
    ...distribution(seen),
    early: seen.filter((v) => v < 0).length,
    missed: values.length - seen.length,
  }
}

const until = (epochMs: number) => sleep(Math.max(0, epochMs - Date.now()))

/**
 * One refresh of every instance paced over the window, then silence until all have flipped.
 * With `polled`, pollers watch a sample; without, the bridge's CPU per flip is taken (its quiet
 * rate just before the flips subtracted), so serving the pollers is not counted as a flip's cost.
 */
async function cycle(
  bridge: ChildServer,
  observer: Observer,
  refs: InstanceRef[],
  polled: boolean
) {
  const refresh = await paced(bridge.url, refs, (refs.length * 1000) / WINDOW_MS)
  const targets: Target[] = refs.map((r, i) => {
    const deadline = refresh.answers[i]?.deadline ?? Number.NaN
    return { ...r, deadline, after: deadline - TIMEOUT_MS }
  })
  const sorted = [...targets].sort((a, b) => a.deadline - b.deadline)
  const step = Math.max(1, Math.floor(refs.length / POLLED))
  const sample = polled ? sorted.filter((_, i) => i % step === 0).slice(0, POLLED) : []
  if (polled) observer.child.send({ cmd: 'poll', targets: sample } satisfies Message)
  const first = sorted[0]?.deadline ?? Date.now()
  const last = sorted.at(-1)?.deadline ?? Date.now()
  await sleep(1500) // the bookkeeping second after the last refresh
  const quietFrom = [Date.now(), cpuSeconds(bridge.pid)] as const
  await until(first - 300)
  const from = [Date.now(), cpuSeconds(bridge.pid)] as const
  const waited = runQueueMs(bridge.pid)
  await until(last + 1000)
  const to = [Date.now(), cpuSeconds(bridge.pid)] as const
  const waitedMs = runQueueMs(bridge.pid) - waited
  const quietRate = (from[1] - quietFrom[1]) / (from[0] - quietFrom[0])
  const cpuMs = ((to[1] - from[1] - quietRate * (to[0] - from[0])) * 1000) / refs.length
  const volume = await ask<{ bytes: number; events: number }>(observer, {
    cmd: 'bytes',
    from: from[0],
    to: to[0],
  })
  const report = await ask<Report>(observer, { cmd: 'report', targets })
  const poll = sample.map((t) => report.poll[targets.indexOf(t)] ?? null)
  return { cpuMs, volume, sse: report.sse, poll, polls: report.polls, waitedMs }
}

async function once(ctx: BenchContext, n: number): Promise<Run> {
  const refs = layout(n, PER_SERVICE)
  const bridge = await startBridge(`bridge-timeout-${n}`, { HEARTBEAT_TIMEOUT: `${TIMEOUT_MS}ms` })
  const observer = spawnNode(
    `observer-${n}`,
    ['--import', 'tsx', join('bench', 'servers', 'observer.ts')],
    { BRIDGE_URL: bridge.url },
    true
  )
  try {
    await new Promise((r) => observer.child.once('message', r))
    await sleep(1000)
    const idle = rssMiB(bridge.pid)
    let peak = idle
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(bridge.pid))), 100)

    ctx.log(`timeout: ${n} new instances at ${ARRIVALS_PER_S}/s`)
    const cpu0 = cpuSeconds(bridge.pid)
    const reg = await paced(bridge.url, refs, ARRIVALS_PER_S)
    const regCpuUs = ((cpuSeconds(bridge.pid) - cpu0) * 1e6) / n
    await sleep(1500)
    const settled = rssMiB(bridge.pid)
    const docBytes = (await (await fetch(`${bridge.url}/health`)).arrayBuffer()).byteLength

    // One status change in one service, and what the stream sends for it.
    const from = Date.now()
    await postHeartbeat(bridge.url, heartbeatBody(refs[0] as InstanceRef, 0, 'unhealthy'))
    await sleep(500)
    const single = await ask<{ bytes: number; events: number }>(observer, {
      cmd: 'bytes',
      from,
      to: Date.now(),
    })

    // Small stacks flip few instances per cycle: more cycles, so p99 is not just the maximum.
    const cycles = n < 500 ? 4 : 2
    const sse: (number | null)[] = []
    const poll: (number | null)[] = []
    const quiet: Awaited<ReturnType<typeof cycle>>[] = []
    let polls = 0
    let waitedMs = 0
    for (let c = 0; c < cycles; c++) {
      ctx.log(
        `timeout: ${n} instances, cycle ${c + 1} of ${cycles}${c % 2 ? '' : ' (with pollers)'}`
      )
      const r = await cycle(bridge, observer, refs, c % 2 === 0)
      sse.push(...r.sse)
      poll.push(...r.poll)
      polls = r.polls
      waitedMs += r.waitedMs
      if (c % 2 === 1) quiet.push(r)
    }
    clearInterval(sampler)
    const q = quiet[0]
    return {
      n,
      registration: {
        perSecond: n / reg.seconds,
        latency: distribution(reg.answers.map((a) => a.ms)),
        cpuUs: regCpuUs,
      },
      rss: { idle, settled, peak },
      docBytes,
      single,
      flips: { ...(q?.volume ?? { bytes: NaN, events: NaN }), cpuMs: q?.cpuMs ?? NaN },
      sse: lateness(sse),
      poll: lateness(poll),
      polls,
      waitedMs,
    }
  } finally {
    await observer.stop()
    await bridge.stop()
  }
}

const late = (d: Distribution & { early: number }) =>
  `${fmt.ms(d.p50)} / ${fmt.ms(d.p99)} / ${fmt.ms(d.max)}, ${d.early} early`

export async function timeoutBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const runs: Run[] = []
  for (const n of SIZES) runs.push(await once(ctx, n))
  const big = runs.at(-1) as Run
  const small = runs[0] as Run
  const rows: BenchReport['rows'] = []
  for (const r of runs) {
    for (const [where, d] of [
      ['an SSE client', r.sse],
      [`pollers of ?service=&instance= (${POLLED} sampled)`, r.poll],
    ] as const) {
      rows.push({
        figure: `flip lateness at ${where}, ${fmt.int(r.n)} instances (p50 / p99 / max)`,
        value: late(d),
        target: `p99 < ${TARGET.p99Ms} ms, none early`,
        verdict: verdictOf(d.p99 < TARGET.p99Ms && d.early === 0 && d.missed === 0),
      })
    }
  }
  const perFlip = (r: Run) => r.flips.bytes / r.n
  rows.push(
    {
      figure: 'CPU per status change, 5,000 instances (bridge, /proc)',
      value: `${fmt.num(big.flips.cpuMs, 3)} ms`,
      target: `< ${TARGET.cpuMs} ms`,
      verdict: verdictOf(big.flips.cpuMs < TARGET.cpuMs),
    },
    {
      figure: 'stream bytes for one single-service change, 5,000 instances',
      value: `${fmt.bytes(big.single.bytes)} (${fmt.pct((100 * big.single.bytes) / big.docBytes)} of the document)`,
      baseline: `${fmt.bytes(big.docBytes)} document`,
      target: `< ${TARGET.singleShare * 100}% of the document`,
      verdict: verdictOf(big.single.bytes < TARGET.singleShare * big.docBytes),
    },
    {
      figure: 'stream volume while 5,000 instances flip',
      value: `${fmt.bytes(big.flips.bytes)} in ${fmt.int(big.flips.events)} events (${fmt.bytes(perFlip(big))} per flip)`,
      baseline: `${fmt.bytes(perFlip(small))} per flip at 50 instances`,
      ratio: fmt.ratio(perFlip(big) / perFlip(small)),
      target: 'per flip <= 2x of 50 (proportional)',
      verdict: verdictOf(perFlip(big) <= 2 * perFlip(small)),
    },
    {
      figure: `registering 5,000 new instances at ${ARRIVALS_PER_S}/s (202 latency p50 / p99)`,
      value: `${fmt.int(big.registration.perSecond)}/s (${fmt.ms(big.registration.latency.p50)} / ${fmt.ms(big.registration.latency.p99)}; ${fmt.int(big.registration.cpuUs)} µs CPU each)`,
      target: `>= ${ARRIVALS_PER_S * 0.95}/s`,
      verdict: verdictOf(big.registration.perSecond >= ARRIVALS_PER_S * 0.95),
    },
    {
      figure: 'RSS idle / with 5,000 instances (settled; peak while registering and flipping)',
      value: `${fmt.mib(big.rss.idle)} / ${fmt.mib(big.rss.settled)} (peak ${fmt.mib(big.rss.peak)})`,
      target: `<= ${TARGET.idleMiB} / ${TARGET.loadedMiB} MiB`,
      verdict: verdictOf(big.rss.idle <= TARGET.idleMiB && big.rss.settled <= TARGET.loadedMiB),
    }
  )
  const tables = mdTable(
    [
      'instances',
      'SSE lateness p50 / p99 / max',
      'poll lateness p50 / p99 / max',
      'flips never seen (SSE / poll)',
      'CPU per change (quiet cycle)',
      'stream while flipping (quiet cycle)',
      'single change',
      'document',
      'registration: rate, 202 p50 / p99 / max',
      'RSS idle / settled / peak',
      'bridge waited for a CPU while flipping',
    ],
    runs.map((r) => [
      fmt.int(r.n),
      late(r.sse),
      `${late(r.poll)} (${fmt.int(r.polls)} polls)`,
      `${r.sse.missed} / ${r.poll.missed}`,
      `${fmt.num(r.flips.cpuMs, 3)} ms`,
      `${fmt.bytes(r.flips.bytes)}, ${fmt.int(r.flips.events)} events`,
      `${fmt.bytes(r.single.bytes)}, ${r.single.events} event(s)`,
      fmt.bytes(r.docBytes),
      `${fmt.int(r.registration.perSecond)}/s, ${fmt.ms(r.registration.latency.p50)} / ${fmt.ms(r.registration.latency.p99)} / ${fmt.ms(r.registration.latency.max)}, ${fmt.int(r.registration.cpuUs)} µs CPU each`,
      `${fmt.mib(r.rss.idle)} / ${fmt.mib(r.rss.settled)} / ${fmt.mib(r.rss.peak)}`,
      fmt.ms(r.waitedMs),
    ])
  )
  return { id: 'timeout', rows, tables, seconds: (performance.now() - t0) / 1000 }
}
