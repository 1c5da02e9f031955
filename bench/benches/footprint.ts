/**
 * 6 + 7. Footprint and scaling: with 50, 500 and 5,000 heartbeat instances, the bridge's RSS and
 * CPU at idle, in a steady state (every instance reporting every 10 s), and under the read and
 * write loads; plus the cost of one re-judge-and-render of the store. Anything that grows faster
 * than the instance count is flagged.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import {
  getHealth,
  heartbeatBody,
  instanceLayout,
  populate,
  startBridgeProcess,
} from '../lib/bridge.js'
import { cpuPerRequestUs, repeat, runLoad, type SideRuns } from '../lib/load.js'
import { BRIDGE_DIST, REPO_ROOT, SERVERS_DIR } from '../lib/paths.js'
import { measureUsage, type UsageWindow } from '../lib/proc.js'
import { fmt, mdTable, type BenchContext, type BenchReport, type Row } from '../lib/report.js'
import { median } from '../lib/stats.js'

const SIZES = [50, 500, 5000] as const
const PER_SERVICE = 5
/** Steady state: each instance reports this often. */
const REPORT_EVERY_S = 10
/** Growth from 500 to 5,000 instances (10x) beyond this factor per instance is "worse than linear". */
const LINEAR_SLACK = 1.5

interface Size {
  n: number
  docBytes: number
  renderMs: number
  idle: UsageWindow
  steady: UsageWindow
  read: SideRuns
  write: SideRuns
}

function renderCost(n: number): { medianMs: number; bytes: number } {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(SERVERS_DIR, 'render-cost.ts'), BRIDGE_DIST, String(n)],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    }
  )
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { medianMs: number; bytes: number }
}

async function measureSize(ctx: BenchContext, n: number): Promise<Size> {
  const layout = instanceLayout(n, PER_SERVICE)
  const bodies = layout.map((r, i) => heartbeatBody(r, i))
  const bridge = await startBridgeProcess({ name: `bridge-footprint-${n}` })
  try {
    ctx.log(`footprint: ${n} instances: registering`)
    await populate(bridge.url, layout, 64)
    const doc = await getHealth(bridge.url)
    await sleep(1500) // let the bookkeeping render and GC settle
    const idleSeconds = ctx.quick ? 2 : 3
    const idle = (await measureUsage(bridge.pid, () => sleep(idleSeconds * 1000))).usage
    ctx.log(`footprint: ${n} instances: steady state (${n / REPORT_EVERY_S} heartbeats/s)`)
    const steady = (
      await measureUsage(bridge.pid, () =>
        runLoad(
          bridge.url,
          {
            method: 'POST',
            path: '/health',
            bodies,
            expectStatus: 202,
            overallRate: Math.max(1, n / REPORT_EVERY_S),
            connections: 4,
          },
          ctx.quick ? 3 : 5
        )
      )
    ).usage
    const opts = { reps: ctx.quick ? 1 : 2, seconds: ctx.quick ? 1.5 : 2, warmupSeconds: 0.5 }
    ctx.log(`footprint: ${n} instances: read and write load`)
    const read = await repeat(
      {
        label: 'read',
        url: bridge.url,
        pid: bridge.pid,
        spec: { path: '/health', expectStatus: doc.status },
      },
      opts
    )
    const write = await repeat(
      {
        label: 'write',
        url: bridge.url,
        pid: bridge.pid,
        spec: { method: 'POST', path: '/health', bodies, expectStatus: 202 },
      },
      opts
    )
    const render = renderCost(n)
    return { n, docBytes: doc.body.length, renderMs: render.medianMs, idle, steady, read, write }
  } finally {
    await bridge.stop()
  }
}

export async function footprintBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const sizes: Size[] = []
  for (const n of SIZES) sizes.push(await measureSize(ctx, n))
  const at = (n: number) => sizes.find((s) => s.n === n)
  const s500 = at(500)
  const s5000 = at(5000)
  const s50 = at(50)
  const rows: Row[] = []
  for (const s of sizes) {
    rows.push({
      figure: `footprint, ${fmt.int(s.n)} instances: RSS idle / CPU idle / CPU steady (${fmt.int(s.n / REPORT_EVERY_S)} hb/s)`,
      value: `${fmt.mib(s.idle.endRssMiB)} / ${fmt.pct(s.idle.cpuPct)} / ${fmt.pct(s.steady.cpuPct)}`,
      verdict: 'info',
    })
  }
  if (s500 && s5000 && s50) {
    const perInstance = (s: Size) => s.renderMs / s.n
    const renderGrowth = perInstance(s5000) / perInstance(s500)
    rows.push({
      figure: 'scaling: render cost per instance, 5,000 vs 500',
      value: `${fmt.ms(s5000.renderMs)} vs ${fmt.ms(s500.renderMs)} per render (${fmt.num(perInstance(s5000) * 1000, 0)} vs ${fmt.num(perInstance(s500) * 1000, 0)} µs/instance)`,
      ratio: fmt.ratio(renderGrowth),
      target: `<= ${LINEAR_SLACK}x (linear)`,
      verdict: renderGrowth <= LINEAR_SLACK ? 'pass' : 'miss',
    })
    const readCost = (s: Size) => cpuPerRequestUs(s.read) / s.docBytes
    const readGrowth = readCost(s5000) / readCost(s500)
    rows.push({
      figure: 'scaling: GET /health CPU per byte served, 5,000 vs 500',
      value: `${fmt.int(cpuPerRequestUs(s5000.read))} vs ${fmt.int(cpuPerRequestUs(s500.read))} µs per request`,
      ratio: fmt.ratio(readGrowth),
      target: `<= ${LINEAR_SLACK}x (linear)`,
      verdict: readGrowth <= LINEAR_SLACK ? 'pass' : 'miss',
    })
    const writeGrowth = cpuPerRequestUs(s5000.write) / cpuPerRequestUs(s50.write)
    rows.push({
      figure: 'scaling: POST /health CPU per heartbeat, 5,000 vs 50 instances',
      value: `${fmt.int(cpuPerRequestUs(s5000.write))} vs ${fmt.int(cpuPerRequestUs(s50.write))} µs`,
      ratio: fmt.ratio(writeGrowth),
      target: `<= ${LINEAR_SLACK}x (constant)`,
      verdict: writeGrowth <= LINEAR_SLACK ? 'pass' : 'miss',
    })
    const steadyPerHb = (s: Size) => s.steady.cpuPct / (s.n / REPORT_EVERY_S)
    const steadyGrowth = steadyPerHb(s5000) / steadyPerHb(s500)
    rows.push({
      figure: 'scaling: steady-state CPU per heartbeat/s, 5,000 vs 500',
      value: `${fmt.pct(s5000.steady.cpuPct)} vs ${fmt.pct(s500.steady.cpuPct)} CPU`,
      ratio: fmt.ratio(steadyGrowth),
      target: `<= ${LINEAR_SLACK}x (linear)`,
      verdict: steadyGrowth <= LINEAR_SLACK ? 'pass' : 'miss',
    })
  }
  const details = [
    `One bridge per size (\`node bench/out/dist/main.js\`, DOCKER=off, HEARTBEAT_TIMEOUT=1h), ${PER_SERVICE} instances per service, every instance registered first. *Idle*: no requests for ${ctx.quick ? 2 : 3} s. *Steady*: every instance reports every ${REPORT_EVERY_S} s (autocannon at a fixed overall rate). *Read* / *write*: GET /health and POST /health as fast as 10 connections go, ${ctx.quick ? 1 : 2} run(s) of ${ctx.quick ? 1.5 : 2} s after a warm-up. CPU is % of one core from /proc/<pid>/stat; RSS from /proc/<pid>/status. *Render* is one re-judge and serialization of the whole document after a change, timed in a separate process on the compiled HealthStore alone (\`bench/servers/render-cost.ts\`, median of 30).`,
    '',
    mdTable(
      [
        'instances',
        'GET /health size',
        'render (median)',
        'RSS idle',
        'CPU idle',
        'CPU steady',
        'GET /health req/s',
        'GET CPU µs/req',
        'POST hb/s',
        'POST CPU µs/req',
        'peak RSS under load',
      ],
      sizes.map((s) => [
        fmt.int(s.n),
        fmt.kib(s.docBytes),
        fmt.ms(s.renderMs),
        fmt.mib(s.idle.endRssMiB),
        fmt.pct(s.idle.cpuPct),
        fmt.pct(s.steady.cpuPct),
        fmt.int(median(s.read.rps)),
        fmt.int(cpuPerRequestUs(s.read)),
        fmt.int(median(s.write.rps)),
        fmt.int(cpuPerRequestUs(s.write)),
        fmt.mib(Math.max(s.read.peakRssMiB, s.write.peakRssMiB, s.steady.peakRssMiB)),
      ])
    ),
  ].join('\n')
  return {
    id: 'footprint',
    title: 'Footprint and scaling',
    rows,
    details,
    seconds: (performance.now() - t0) / 1000,
  }
}
