/**
 * The one A/B HTTP load script: the bridge against the bare-Hono ceiling (bench/servers/ceiling.ts)
 * for the read answers (whole document, 304, ?service=, ?service=&instance=) and for heartbeats.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { heartbeatBody, layout, populate } from './lib/heartbeats.js'
import { abCompare, type LoadResult, type LoadSpec } from './lib/load.js'
import { BENCH_OUT, freePort, spawnServer, startBridge, type ChildServer } from './lib/proc.js'
import { fmt, mdTable, verdictOf, type BenchContext, type BenchReport } from './lib/report.js'
import { median } from './lib/stats.js'

const SERVICES = 200
const PER_SERVICE = 5
const SERVICE = 'svc-100'
const INSTANCE = 'svc-100-02'
const READ_TARGET = 0.85
const WRITE_TARGET = 0.7

interface Figure {
  figure: string
  a: ChildServer
  b: ChildServer
  baseline: string
  spec: LoadSpec
  target: number | null
}

/** Headers that describe the connection or the framing, not the answer. */
const FRAMING = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

/** One answer of the bridge as the ceiling will replay it. */
async function record(url: string, path: string, init: RequestInit = {}) {
  const res = await fetch(url + path, init)
  const headers: Record<string, string> = {}
  res.headers.forEach((value, name) => {
    if (!FRAMING.has(name)) headers[name] = value
  })
  return { status: res.status, headers, body: await res.text() }
}

async function startCeiling(name: string, file: string, strip = false): Promise<ChildServer> {
  const port = await freePort()
  return spawnServer({
    name,
    args: ['--import', 'tsx', join('bench', 'servers', 'ceiling.ts')],
    env: { PORT: String(port), ANSWERS: file, STRIP: strip ? '1' : '0' },
    port,
    readyPath: '/health/live',
  })
}

export async function httpBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const refs = layout(SERVICES * PER_SERVICE, PER_SERVICE)
  const bridge = await startBridge('bridge-http')
  let ceiling: ChildServer | undefined
  let bare: ChildServer | undefined
  try {
    await populate(bridge.url, refs)
    const bodies = refs.map((r, i) => heartbeatBody(r, i))
    const doc = await record(bridge.url, '/health')
    const etag = doc.headers.etag ?? ''
    const answers = {
      doc,
      notModified: await record(bridge.url, '/health', { headers: { 'if-none-match': etag } }),
      service: await record(bridge.url, `/health?service=${SERVICE}`),
      instance: await record(bridge.url, `/health?service=${SERVICE}&instance=${INSTANCE}`),
      heartbeat: await record(bridge.url, '/health', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[0] ?? '',
      }),
    }
    const file = join(BENCH_OUT, 'ceiling-answers.json')
    writeFileSync(file, JSON.stringify(answers))
    ceiling = await startCeiling('ceiling', file)
    const replayed = await record(ceiling.url, '/health')
    if (
      replayed.body !== doc.body ||
      JSON.stringify(replayed.headers) !== JSON.stringify(doc.headers)
    ) {
      throw new Error("the ceiling does not answer the bridge's bytes")
    }
    bare = await startCeiling('ceiling-bare', file, true)
    const notModified: LoadSpec = {
      path: '/health',
      headers: { 'if-none-match': etag },
      expectStatus: 304,
    }
    const vsCeiling = { a: bridge, b: ceiling, baseline: 'bare Hono, same bytes' }
    const figures: Figure[] = [
      {
        ...vsCeiling,
        figure: `GET /health (${SERVICES} x ${PER_SERVICE} instances, ${fmt.bytes(doc.body.length)})`,
        spec: { path: '/health', expectStatus: doc.status },
        target: READ_TARGET,
      },
      {
        ...vsCeiling,
        figure: 'GET /health, If-None-Match -> 304',
        spec: notModified,
        target: READ_TARGET,
      },
      {
        ...vsCeiling,
        figure: `GET /health?service= (${fmt.bytes(answers.service.body.length)})`,
        spec: { path: `/health?service=${SERVICE}`, expectStatus: answers.service.status },
        target: READ_TARGET,
      },
      {
        ...vsCeiling,
        figure: `GET /health?service=&instance= (${fmt.bytes(answers.instance.body.length)})`,
        spec: {
          path: `/health?service=${SERVICE}&instance=${INSTANCE}`,
          expectStatus: answers.instance.status,
        },
        target: READ_TARGET,
      },
      {
        ...vsCeiling,
        baseline: 'bare Hono, same JSON parsed',
        figure: `POST /health, ${fmt.int(refs.length)} instances reporting`,
        spec: { method: 'POST', path: '/health', bodies, expectStatus: 202 },
        target: WRITE_TARGET,
      },
      {
        a: ceiling,
        b: bare,
        baseline: 'the same without them',
        figure: 'bare Hono 304 with the security headers (their own cost)',
        spec: notModified,
        target: null,
      },
    ]
    const report: BenchReport = { id: 'http', rows: [], tables: '', seconds: 0 }
    const raw: string[][] = []
    for (const f of figures) {
      ctx.log(`http: ${f.figure}`)
      const r = await abCompare(
        { url: f.a.url, pid: f.a.pid, spec: f.spec },
        { url: f.b.url, pid: f.b.pid, spec: f.spec },
        ctx
      )
      const errors = [...r.a, ...r.b].reduce((n, x) => n + x.errors, 0)
      const rps = (side: LoadResult[]) => median(side.map((x) => x.rps))
      const cpu = (side: LoadResult[]) => median(side.map((x) => x.cpuUs))
      report.rows.push({
        figure: f.figure,
        value: `${fmt.int(rps(r.a))} req/s (${fmt.int(cpu(r.a))} µs CPU)`,
        baseline: `${fmt.int(rps(r.b))} req/s (${fmt.int(cpu(r.b))} µs), ${f.baseline}`,
        ratio: fmt.ratio(r.ratio),
        target: f.target === null ? '' : `>= ${f.target}x`,
        verdict: f.target === null ? 'info' : verdictOf(errors === 0 && r.ratio >= f.target),
      })
      raw.push([
        f.figure,
        r.a.map((x) => fmt.int(x.rps)).join(', '),
        r.b.map((x) => fmt.int(x.rps)).join(', '),
        r.ratios.map((x) => x.toFixed(2)).join(', '),
        fmt.ratio(cpu(r.b) / cpu(r.a)),
        `${fmt.ms(median(r.a.map((x) => x.p99Ms)))} / ${fmt.ms(median(r.b.map((x) => x.p99Ms)))}`,
        String(errors),
      ])
    }
    report.tables = mdTable(
      [
        'figure',
        'A req/s per rep',
        'B req/s per rep',
        'ratio per rep',
        'CPU per answer, B / A (steadier than req/s)',
        'p99 latency (bridge / ceiling)',
        'errors',
      ],
      raw
    )
    report.seconds = (performance.now() - t0) / 1000
    return report
  } finally {
    await ceiling?.stop()
    await bare?.stop()
    await bridge.stop()
  }
}
