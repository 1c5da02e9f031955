/**
 * The soak's summary, as JSON (everything, for tools) and as Markdown (the tables
 * docs/reliability.md quotes), written to bench/out/soak/.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { fmt, mdTable } from '../lib/report.js'
import { percentile } from '../lib/stats.js'

import type { EngineOutage } from './chaos.js'
import type { Sample } from './samplers.js'
import type { KindTally } from './tally.js'
import type { ComposeRow, SenderComparison, SlopeFit } from './verdict.js'

export interface SoakSummary {
  command: string
  date: string
  machine: Record<string, string>
  options: Record<string, unknown>
  durationS: number
  loadAverage: { start: number[]; end: number[]; meanLoad1: number }
  requests: Record<
    string,
    {
      total: number
      statuses: Record<string, number>
      p50Ms: number
      p99Ms: number
      networkErrors: number
    }
  >
  retries: number
  malformed: { sent: number; unexpected: Record<string, number> }
  streams: Record<string, number>
  samples: Sample[]
  rss: SlopeFit & { startMiB: number; peakMiB: number; endMiB: number }
  eventLoop: { p99OfIntervalP99Ms: number; medianIntervalP99Ms: number; maxMs: number }
  docker: null | {
    engine: string
    project: string
    kills: number
    outages: EngineOutage[]
    compose: ComposeRow[]
  }
  senders: SenderComparison & { total: number }
  streamCompare: { live: number; equal: number; mismatched: number[]; diffs: string[] }
  sigterm: { code: number | null; ms: number }
  bridgeErrorLines: number
  problems: string[]
  passed: boolean
}

export function requestTable(kinds: ReadonlyMap<string, KindTally>): SoakSummary['requests'] {
  const out: SoakSummary['requests'] = {}
  for (const [kind, t] of [...kinds.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const statuses: Record<string, number> = {}
    for (const [s, n] of [...t.statuses.entries()].sort((a, b) => a[0] - b[0]))
      statuses[String(s)] = n
    out[kind] = {
      total: t.seen,
      statuses,
      p50Ms: percentile(t.latencies, 50),
      p99Ms: percentile(t.latencies, 99),
      networkErrors: t.networkErrors,
    }
  }
  return out
}

/** About a dozen rows of the RSS series, evenly spaced, with the last sample. */
function rssRows(samples: readonly Sample[]): string[][] {
  const step = Math.max(1, Math.ceil(samples.length / 12))
  const picked = samples.filter((_, i) => i % step === 0)
  const last = samples.at(-1)
  if (last && picked.at(-1) !== last) picked.push(last)
  return picked.map((s) => [
    fmt.num(s.t, 0),
    fmt.num(s.rssMiB, 1),
    fmt.num(s.heapUsedMiB, 1),
    fmt.ms(s.loopP99Ms),
    fmt.pct(s.cpuPct),
    fmt.num(s.load1, 2),
    fmt.int(s.requests),
  ])
}

export function markdown(s: SoakSummary): string {
  const allCodes = [...new Set(Object.values(s.requests).flatMap((r) => Object.keys(r.statuses)))]
    .map(Number)
    .sort((a, b) => a - b)
  const req = mdTable(
    [
      'kind',
      'requests',
      ...allCodes.map((c) => (c === 0 ? 'closed' : String(c))),
      'net err',
      'p50',
      'p99',
    ],
    Object.entries(s.requests).map(([kind, r]) => [
      kind,
      fmt.int(r.total),
      ...allCodes.map((c) => fmt.int(r.statuses[String(c)] ?? 0)),
      fmt.int(r.networkErrors),
      fmt.ms(r.p50Ms),
      fmt.ms(r.p99Ms),
    ])
  )
  const rss = mdTable(
    ['t (s)', 'RSS MiB', 'heap MiB', 'loop p99', 'bridge CPU', 'load1', 'requests'],
    rssRows(s.samples)
  )
  const parts = [
    `Command: \`${s.command}\`  `,
    `Date: ${s.date}; machine: ${Object.entries(s.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}  `,
    `Load average: ${s.loadAverage.start.map((x) => x.toFixed(2)).join(' / ')} at the start, ${s.loadAverage.end.map((x) => x.toFixed(2)).join(' / ')} at the end (1/5/15 min), mean 1-min load during the run ${s.loadAverage.meanLoad1.toFixed(2)}`,
    '',
    `### Requests by status code (${fmt.int(Object.values(s.requests).reduce((n, r) => n + r.total, 0))} in ${fmt.num(s.durationS, 0)} s)`,
    '',
    req,
    '',
    `Network errors retried once (a keep-alive race): ${fmt.int(s.retries)}. Malformed requests sent: ${fmt.int(s.malformed.sent)}; answers outside what the fuzz properties allow: ${Object.keys(s.malformed.unexpected).length === 0 ? 'none' : JSON.stringify(s.malformed.unexpected)}.`,
    '',
    '### RSS and event-loop delay over time',
    '',
    rss,
    '',
    `RSS fit after warm-up (${s.rss.samples} samples, ${fmt.num(s.rss.fromS, 0)}-${fmt.num(s.rss.toS, 0)} s): slope ${s.rss.slopeMiBPerMin.toFixed(3)} MiB/min (standard error ${s.rss.stderrMiBPerMin.toFixed(3)}), ${s.rss.growthMiB.toFixed(1)} MiB over the window against a residual spread of ${s.rss.residualSdMiB.toFixed(1)} MiB around a mean of ${s.rss.meanMiB.toFixed(1)} MiB: ${s.rss.withinNoise ? '**within noise**' : '**growth**'}. RSS start ${s.rss.startMiB.toFixed(1)}, peak ${s.rss.peakMiB.toFixed(1)}, end ${s.rss.endMiB.toFixed(1)} MiB.`,
    '',
    `Event-loop delay (the bridge's \`nodejs_eventloop_lag_p99_seconds\`, one value per sample interval): median of the interval p99s ${fmt.ms(s.eventLoop.medianIntervalP99Ms)}, p99 of them ${fmt.ms(s.eventLoop.p99OfIntervalP99Ms)}, worst single delay ${fmt.ms(s.eventLoop.maxMs)}.`,
    '',
  ]
  if (s.docker) {
    parts.push(
      `### Docker (${s.docker.engine}, project \`${s.docker.project}\`)`,
      '',
      `soak-web SIGKILLed ${s.docker.kills} times; soak-crasher exits by itself every 20-40 s. dockerd restarts:`,
      '',
      mdTable(
        ['at (s)', 'dockerd stop', 'bridge noticed', 'following again after _ping'],
        s.docker.outages.map((o) => [
          fmt.num(o.at, 0),
          fmt.ms(o.stopMs),
          o.noticedMs === null ? 'never' : fmt.ms(o.noticedMs),
          o.recoveredMs === null ? 'never' : fmt.ms(o.recoveredMs),
        ])
      ),
      '',
      'Final statuses against `docker compose ps -a`:',
      '',
      mdTable(
        [
          'service',
          'ps state',
          'ps health',
          'bridge state',
          'bridge health',
          'expected',
          'served',
          'match',
        ],
        s.docker.compose.map((r) => [
          r.service,
          r.psState,
          r.psHealth,
          r.bridgeState,
          r.bridgeHealth,
          r.expected,
          r.served,
          r.ok ? 'yes' : '**no**',
        ])
      ),
      ''
    )
  }
  parts.push(
    `Senders' last words: ${s.senders.compared} of ${s.senders.total} compared (${s.senders.uncertain} uncertain: last heartbeat unanswered), ${s.senders.mismatches.length} mismatches.  `,
    `Stream clients: ${s.streamCompare.equal} of ${s.streamCompare.live} live clients' documents equal a fresh \`GET /health\` (drawn fields); ${Object.entries(
      s.streams
    )
      .map(([k, v]) => `${k} ${fmt.int(v)}`)
      .join(', ')}.  `,
    `SIGTERM with the streams open: exit ${s.sigterm.code} after ${fmt.ms(s.sigterm.ms)}. Bridge error-level log lines: ${s.bridgeErrorLines}.`,
    '',
    s.passed
      ? '**SOAK PASSED**'
      : `**SOAK FAILED**:\n\n${s.problems.map((p) => `- ${p}`).join('\n')}`,
    ''
  )
  return parts.join('\n')
}

export function writeSummary(dir: string, s: SoakSummary): { json: string; md: string } {
  mkdirSync(dir, { recursive: true })
  const json = join(dir, 'summary.json')
  const md = join(dir, 'summary.md')
  writeFileSync(json, `${JSON.stringify(s, null, 2)}\n`)
  writeFileSync(md, markdown(s))
  return { json, md }
}
