/**
 * 1. Read path: GET /health with 200 services x 5 instances (heartbeat-populated, DOCKER=off),
 * against a bare @hono/node-server app serving the same bytes; also the 304 path and ?service=.
 */
import { getHealth, instanceLayout, populate, startBridgeProcess } from '../lib/bridge.js'
import { abCompare, cpuPerRequestUs, type AbResult, type LoadSpec } from '../lib/load.js'
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

const SERVICES = 200
const PER_SERVICE = 5
const TARGET_RATIO = 0.85
const PROBE_SERVICE = 'svc-100'

export async function readBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const bridge = await startBridgeProcess({ name: 'bridge-read' })
  let ceiling: Awaited<ReturnType<typeof startCeiling>> | undefined
  try {
    await populate(bridge.url, instanceLayout(SERVICES * PER_SERVICE, PER_SERVICE))
    const whole = await getHealth(bridge.url)
    const svc = await getHealth(bridge.url, `/health?service=${PROBE_SERVICE}`)
    if (whole.etag === null) throw new Error('GET /health answered without an ETag')
    ceiling = await startCeiling('ceiling-read', {
      doc: whole.body,
      etag: whole.etag,
      status: whole.status,
      service: svc.body,
      ...(svc.etag === null ? {} : { serviceEtag: svc.etag }),
    })
    const again = await getHealth(ceiling.url)
    if (again.body !== whole.body) throw new Error("the ceiling does not serve the bridge's bytes")

    // The small answers settle faster than the 332 KiB one: shorter runs keep the whole bench bounded.
    const short = { ...ctx, seconds: Math.max(1, Math.round((ctx.seconds * 2) / 3)) }
    const variants: { key: string; figure: string; spec: LoadSpec; opts: BenchContext }[] = [
      {
        key: 'whole',
        figure: `GET /health (${SERVICES} x ${PER_SERVICE} instances, ${fmt.kib(whole.body.length)})`,
        spec: { path: '/health', expectStatus: whole.status },
        opts: ctx,
      },
      {
        key: '304',
        figure: 'GET /health, If-None-Match -> 304',
        spec: { path: '/health', headers: { 'if-none-match': whole.etag }, expectStatus: 304 },
        opts: short,
      },
      {
        key: 'service',
        figure: `GET /health?service=${PROBE_SERVICE} (${fmt.int(svc.body.length)} B)`,
        spec: { path: `/health?service=${PROBE_SERVICE}`, expectStatus: svc.status },
        opts: short,
      },
    ]
    const rows: Row[] = []
    const raw: string[][] = []
    const results: [string, AbResult][] = []
    for (const v of variants) {
      ctx.log(`read: ${v.figure}`)
      const r = await abCompare(
        { label: 'bridge', url: bridge.url, pid: bridge.pid, spec: v.spec },
        { label: 'ceiling', url: ceiling.url, pid: ceiling.pid, spec: v.spec },
        v.opts
      )
      results.push([v.key, r])
      rows.push({
        figure: v.figure,
        value: `${fmt.int(median(r.a.rps))} req/s`,
        baseline: `${fmt.int(median(r.b.rps))} req/s (bare Hono, same bytes)`,
        ratio: fmt.ratio(r.medianRatio),
        target: `>= ${TARGET_RATIO}x`,
        verdict: r.a.errors + r.b.errors > 0 ? 'miss' : verdictOf(r.medianRatio >= TARGET_RATIO),
      })
      raw.push([
        v.figure,
        r.a.rps.map(fmt.int).join(', '),
        r.b.rps.map(fmt.int).join(', '),
        r.ratios.map((x) => x.toFixed(2)).join(', '),
        fmt.pct(r.ratioSpread * 100),
        `${fmt.pct(median(r.a.cpuPct))} / ${fmt.pct(median(r.b.cpuPct))}`,
        `${fmt.int(cpuPerRequestUs(r.a))} / ${fmt.int(cpuPerRequestUs(r.b))}`,
        `${fmt.ms(median(r.a.latencyP99Ms))} / ${fmt.ms(median(r.b.latencyP99Ms))}`,
        `${r.a.errors} / ${r.b.errors}`,
      ])
    }
    const profile = await profileLoads(ctx, {
      name: 'read',
      layout: instanceLayout(SERVICES * PER_SERVICE, PER_SERVICE),
      loads: variants.filter((_, i) => ctx.profile || rows[i]?.verdict === 'miss'),
    })
    const details = [
      `The bridge runs as \`node bench/out/dist/main.js\` (DOCKER=off, HEARTBEAT_TIMEOUT=1h), populated with ${SERVICES * PER_SERVICE} heartbeat instances (${SERVICES} services x ${PER_SERVICE}) before the measurement. The ceiling is a bare @hono/node-server app (\`bench/servers/ceiling.ts\`) that answers the bytes and headers the bridge served, read from a file; for the 304 row it compares If-None-Match with the ETag string. autocannon, 10 connections, keep-alive, from the runner's process; ${ctx.reps} repetitions of ${ctx.seconds} s (the whole document) or ${short.seconds} s (the small answers) per side in ABBA order after a ${ctx.warmupSeconds} s warm-up each.`,
      '',
      mdTable(
        [
          'figure',
          'bridge req/s per rep',
          'ceiling req/s per rep',
          'ratio per rep',
          'ratio spread',
          'server CPU (bridge / ceiling)',
          'CPU µs per request (bridge / ceiling)',
          'p99 latency (bridge / ceiling)',
          'errors',
        ],
        raw
      ),
      ...(profile === null ? [] : ['', profile]),
    ].join('\n')
    return {
      id: 'read',
      title: 'Read path',
      rows,
      details,
      seconds: (performance.now() - t0) / 1000,
    }
  } finally {
    await ceiling?.stop()
    await bridge.stop()
  }
}
