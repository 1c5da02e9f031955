/**
 * 2. Write path: heartbeats per second with 1,000 instances reporting, against a bare Hono POST
 * that parses and discards the same JSON.
 */
import { heartbeatBody, instanceLayout, populate, startBridgeProcess } from '../lib/bridge.js'
import { abCompare, cpuPerRequestUs, type LoadSpec } from '../lib/load.js'
import {
  fmt,
  mdTable,
  verdictOf,
  type BenchContext,
  type BenchReport,
  type Row,
} from '../lib/report.js'
import { median } from '../lib/stats.js'

import { startCeiling } from './ceiling.js'
import { profileLoads } from './profiled.js'

const INSTANCES = 1000
const PER_SERVICE = 5
const TARGET_RATIO = 0.6
const TARGET_RPS = 10_000

export async function writeBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const layout = instanceLayout(INSTANCES, PER_SERVICE)
  const bodies = layout.map((ref, i) => heartbeatBody(ref, i))
  const spec: LoadSpec = { method: 'POST', path: '/health', bodies, expectStatus: 202 }
  const bridge = await startBridgeProcess({ name: 'bridge-write' })
  const ceiling = await startCeiling('ceiling-write', {
    doc: '{}',
    etag: 'W/"x"',
    status: 200,
    service: '{}',
  })
  try {
    // Steady state: every instance is known, so the run measures reports, not registrations.
    await populate(bridge.url, layout)
    ctx.log(`write: POST /health, ${INSTANCES} instances`)
    const r = await abCompare(
      { label: 'bridge', url: bridge.url, pid: bridge.pid, spec },
      { label: 'ceiling', url: ceiling.url, pid: ceiling.pid, spec },
      ctx
    )
    const rps = median(r.a.rps)
    const ok = r.a.errors + r.b.errors === 0
    const rows: Row[] = [
      {
        figure: `POST /health, ${fmt.int(INSTANCES)} instances reporting`,
        value: `${fmt.int(rps)} hb/s`,
        baseline: `${fmt.int(median(r.b.rps))} req/s (bare Hono, JSON.parse only)`,
        ratio: fmt.ratio(r.medianRatio),
        target: `>= ${TARGET_RATIO}x`,
        verdict: ok ? verdictOf(r.medianRatio >= TARGET_RATIO) : 'miss',
      },
      {
        figure: 'heartbeats/s absolute',
        value: `${fmt.int(rps)} hb/s`,
        target: `>= ${fmt.int(TARGET_RPS)}/s`,
        verdict: ok ? verdictOf(rps >= TARGET_RPS) : 'miss',
      },
    ]
    const missed = rows.some((row) => row.verdict === 'miss')
    const profile = await profileLoads(ctx, {
      name: 'write',
      layout,
      loads: missed || ctx.profile ? [{ figure: rows[0]?.figure ?? 'POST /health', spec }] : [],
    })
    const details = [
      `Each request is one of ${INSTANCES} pre-built heartbeat bodies (${fmt.int(bodies[0]?.length ?? 0)} bytes: service, instance, status, an ISO timestamp and three details), sent in turn by every connection; every instance has reported once before the measurement, so this is the steady state (no registrations). The bridge runs with DOCKER=off, HEARTBEAT_TIMEOUT=1h; the ceiling (\`bench/servers/ceiling.ts\`) does \`await c.req.json()\` and answers a 202 of the same shape. autocannon, 10 connections; ${ctx.reps} repetitions of ${ctx.seconds} s per side, ABBA order, after a warm-up.`,
      '',
      mdTable(
        [
          'side',
          'req/s per rep',
          'server CPU (median)',
          'CPU µs per request',
          'p99 latency (median)',
          'peak RSS',
          'errors',
        ],
        [r.a, r.b].map((s) => [
          s.label,
          s.rps.map(fmt.int).join(', '),
          fmt.pct(median(s.cpuPct)),
          fmt.int(cpuPerRequestUs(s)),
          fmt.ms(median(s.latencyP99Ms)),
          fmt.mib(s.peakRssMiB),
          String(s.errors),
        ])
      ),
      '',
      `Ratio per repetition: ${r.ratios.map((x) => x.toFixed(2)).join(', ')} (spread ${fmt.pct(r.ratioSpread * 100)}).`,
      ...(profile === null ? [] : ['', profile]),
    ].join('\n')
    return {
      id: 'write',
      title: 'Write path',
      rows,
      details,
      seconds: (performance.now() - t0) / 1000,
    }
  } finally {
    await ceiling.stop()
    await bridge.stop()
  }
}
