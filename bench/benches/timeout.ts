/**
 * 4. Heartbeat timeout precision: every instance reports once, the reports spread over a window
 * so their deadlines spread too, and then all fall silent. How late after its exact deadline
 * (receivedAt + timeout, both from the bridge's own 202 answer) does each instance's flip to
 * unhealthy appear (a) in the documents the store publishes (store.subscribe, the hook behind
 * the event stream) and (b) at an SSE client of GET /health/stream?
 */
import { setTimeout as sleep } from 'node:timers/promises'

import {
  heartbeatBody,
  instanceLayout,
  populate,
  postHeartbeat,
  startProbeBridge,
  type InstanceRef,
} from '../lib/bridge.js'
import {
  fmt,
  mdTable,
  verdictOf,
  type BenchContext,
  type BenchReport,
  type Row,
} from '../lib/report.js'
import { recordSse } from '../lib/sse.js'
import { distribution, type Distribution } from '../lib/stats.js'

const TARGET_P99_MS = 20
const PER_SERVICE = 5

/** Sends one heartbeat per instance, instance i at start + i * windowMs / n; returns each deadline. */
async function registerSpread(
  url: string,
  layout: readonly InstanceRef[],
  windowMs: number
): Promise<number[]> {
  const deadlines = new Array<number>(layout.length)
  const start = performance.now()
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      const ref = layout[i]
      if (ref === undefined) return
      const due = start + (i * windowMs) / layout.length
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      const a = await postHeartbeat(url, heartbeatBody(ref, i))
      deadlines[i] = Date.parse(a.receivedAt) + a.timeoutSeconds * 1000
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker))
  return deadlines
}

interface Run {
  n: number
  sse: boolean
  store: Distribution
  sseLateness: Distribution | null
  missing: number
  documents: number
  sseEvents: number
  spreadMs: number
  registrationMs: number
}

async function once(
  ctx: BenchContext,
  n: number,
  withSse: boolean,
  windowMs: number
): Promise<Run> {
  // Longer than the refresh window plus the bookkeeping second, so no refresh and no bookkeeping
  // render falls among the deadlines.
  const timeoutMs = windowMs + (n >= 5000 ? 20_000 : 3000)
  const bridge = await startProbeBridge({
    name: `bridge-timeout-${n}${withSse ? '-sse' : ''}`,
    env: { HEARTBEAT_TIMEOUT: `${timeoutMs}ms` },
  })
  try {
    const layout = instanceLayout(n, PER_SERVICE)
    ctx.log(
      `timeout: ${n} instances over ${windowMs} ms, timeout ${timeoutMs} ms${withSse ? ', one SSE client' : ''}`
    )
    // Registration first (each new instance forces a render: slow with many), then one refresh
    // per instance paced over the window: a refresh changes no status, so it renders nothing, and
    // the deadlines spread evenly over the window.
    const registeredIn = performance.now()
    await populate(bridge.url, layout, 128)
    const registrationMs = performance.now() - registeredIn
    ctx.log(`timeout: ${n} instances registered in ${Math.round(registrationMs)} ms`)
    // Connected after registration: every render ships the whole document to it, which would
    // slow registration down further.
    const sse = withSse ? recordSse(`${bridge.url}/health/stream`) : null
    await sse?.connected
    const deadlines = await registerSpread(bridge.url, layout, windowMs)
    // An instance whose first deadline passed during a slow registration flipped early and back;
    // only a flip after its refresh counts.
    const refreshedAt = deadlines.map((d) => d - timeoutMs)
    ctx.log(
      `timeout: registered; deadlines spread over ${Math.round(Math.max(...deadlines) - Math.min(...deadlines))} ms`
    )
    const last = Math.max(...deadlines)
    await sleep(Math.max(0, last - Date.now()) + 1000)
    const keys = layout.map((r, i) => ({
      service: r.service,
      instance: r.instance,
      status: 'unhealthy',
      after: refreshedAt[i] ?? 0,
    }))
    const probe = await bridge.firstSeen(keys)
    const lateness: number[] = []
    let missing = 0
    probe.firstSeen.forEach((at, i) => {
      if (at === null) missing++
      else lateness.push(at - (deadlines[i] ?? 0))
    })
    let sseLateness: Distribution | null = null
    let sseEvents = 0
    if (sse) {
      const events = sse.stop().filter((e) => e.event === 'health')
      sseEvents = events.length
      const index = new Map(layout.map((r, i) => [`${r.service}\u0000${r.instance}`, i]))
      const first = new Array<number | null>(layout.length).fill(null)
      // The stream may lag: an event that arrives after a refresh can still carry the state from
      // before it. So only a change from healthy to unhealthy, arriving after the refresh, counts.
      const lastShown = new Array<string | null>(layout.length).fill(null)
      for (const e of events) {
        const doc = JSON.parse(e.data) as {
          services: { name: string; instances: { id: string; status: string }[] }[]
        }
        for (const s of doc.services) {
          for (const inst of s.instances) {
            const i = index.get(`${s.name}\u0000${inst.id}`)
            if (i === undefined) continue
            const flipped = lastShown[i] === 'healthy' && inst.status === 'unhealthy'
            if (flipped && first[i] === null && e.at >= (refreshedAt[i] ?? 0)) first[i] = e.at
            lastShown[i] = inst.status
          }
        }
      }
      const l: number[] = []
      first.forEach((at, i) => {
        if (at !== null) l.push(at - (deadlines[i] ?? 0))
      })
      sseLateness = distribution(l)
      missing += first.filter((x) => x === null).length
    }
    return {
      n,
      sse: withSse,
      store: distribution(lateness),
      sseLateness,
      missing,
      documents: probe.documents,
      sseEvents,
      spreadMs: last - Math.min(...deadlines),
      registrationMs,
    }
  } finally {
    await bridge.stop()
  }
}

export async function timeoutBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const windowMs = ctx.quick ? 2000 : 3000
  const runs: Run[] = []
  for (const n of [50, 500]) runs.push(await once(ctx, n, false, windowMs))
  runs.push(await once(ctx, 5000, true, windowMs))

  const rows: Row[] = []
  for (const r of runs) {
    const views: [string, Distribution][] = [['in the published document', r.store]]
    if (r.sseLateness) views.push(['at an SSE client', r.sseLateness])
    for (const [where, d] of views) {
      rows.push({
        figure: `timeout flip lateness, ${fmt.int(r.n)} instances, ${where} (p50 / p99)`,
        value: `${fmt.ms(d.p50)} / ${fmt.ms(d.p99)}`,
        target: r.n === 5000 ? `p99 < ${TARGET_P99_MS} ms` : '',
        verdict: r.missing > 0 ? 'miss' : r.n === 5000 ? verdictOf(d.p99 < TARGET_P99_MS) : 'info',
      })
    }
  }
  const details = [
    `Every instance registers (one heartbeat each, 128 senders at once: the *registration* column shows how long that takes, since each new instance forces a render), then sends one more heartbeat, paced evenly over ${windowMs} ms, and then falls silent. HEARTBEAT_TIMEOUT = window + 3 s (+ 20 s with 5,000 instances, whose registration is slow), so the deadlines spread over the window and neither a heartbeat nor the once-a-second bookkeeping render falls among them: every render in the measured window is deadline-driven. An instance's deadline is the \`receivedAt\` of its last heartbeat plus \`timeoutSeconds\`, both from the bridge's own 202 answer. The bridge is the compiled one, started by \`bench/servers/probe-bridge.ts\`. That probe subscribes to the store the way the event stream does and notes when each instance's status changed in the published documents (an O(instances) scan per document, after the store's own work). The 5,000-instance run also has one SSE client on GET /health/stream, connected after registration; its arrival times are stamped on receipt and parsed after the run. A poll of GET /health is never late by construction: a read after a deadline re-judges before answering.`,
    '',
    mdTable(
      [
        'instances',
        'SSE client',
        'registration',
        'deadlines spread over',
        'documents published',
        'store p50 / p95 / p99 / max',
        'SSE p50 / p95 / p99 / max',
        'SSE events',
        'flips never seen',
      ],
      runs.map((r) => [
        fmt.int(r.n),
        r.sse ? 'yes' : 'no',
        fmt.ms(r.registrationMs),
        fmt.ms(r.spreadMs),
        fmt.int(r.documents),
        `${fmt.ms(r.store.p50)} / ${fmt.ms(r.store.p95)} / ${fmt.ms(r.store.p99)} / ${fmt.ms(r.store.max)}`,
        r.sseLateness
          ? `${fmt.ms(r.sseLateness.p50)} / ${fmt.ms(r.sseLateness.p95)} / ${fmt.ms(r.sseLateness.p99)} / ${fmt.ms(r.sseLateness.max)}`
          : '',
        r.sse ? fmt.int(r.sseEvents) : '',
        String(r.missing),
      ])
    ),
  ].join('\n')
  return {
    id: 'timeout',
    title: 'Heartbeat timeout precision',
    rows,
    details,
    seconds: (performance.now() - t0) / 1000,
  }
}
