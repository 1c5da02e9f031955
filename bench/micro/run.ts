/** Runs the `vitest bench` micro-benchmarks in a child process and turns medians into rows. */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { BENCH_OUT, REPO_ROOT } from '../lib/proc.js'
import { fmt, mdTable, verdictOf, type BenchContext, type BenchReport } from '../lib/report.js'

interface Result {
  group: string
  name: string
  /** Median time of one iteration, µs. */
  us: number
  samples: number
}

interface Output {
  files: {
    groups: {
      fullName: string
      benchmarks: { name: string; median: number; sampleCount: number }[]
    }[]
  }[]
}

/** A change must cost about the same whatever the stack's size. */
const CONSTANT_SLACK = 2

export async function microBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const out = join(BENCH_OUT, 'micro.json')
  const vitest = join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs')
  ctx.log('micro: vitest bench --config bench/micro/vitest.config.ts')
  await promisify(execFile)(
    process.execPath,
    [vitest, 'bench', '--run', '--config', 'bench/micro/vitest.config.ts', '--outputJson', out],
    { cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }
  )
  const results: Result[] = (JSON.parse(readFileSync(out, 'utf8')) as Output).files.flatMap((f) =>
    f.groups.flatMap((g) =>
      g.benchmarks.map((b) => ({
        group: g.fullName.split(' > ').at(-1) ?? g.fullName,
        name: b.name,
        us: b.median * 1000,
        samples: b.sampleCount,
      }))
    )
  )
  const us = (group: string, prefix: string) =>
    results.find((r) => r.group === group && r.name.startsWith(prefix))?.us ?? Number.NaN
  const change = (n: number) => us(`${n} instances`, 'status change: one')
  const growth = change(5000) / change(50)
  const scratch = us('5000 instances', 'from scratch')
  const report: BenchReport = {
    id: 'micro',
    rows: [
      {
        figure:
          'store, one status change (re-judge, render, hash one service), 5,000 vs 50 instances',
        value: `${fmt.num(change(5000))} vs ${fmt.num(change(50))} µs`,
        ratio: fmt.ratio(growth),
        target: `<= ${CONSTANT_SLACK}x (constant in n)`,
        verdict: verdictOf(growth <= CONSTANT_SLACK),
      },
      {
        figure: 'store, one status change at 5,000 instances',
        value: `${fmt.num(change(5000))} µs`,
        baseline: `${fmt.num(scratch)} µs (whole stack from scratch, 0.1.0)`,
        ratio: `${fmt.int(scratch / change(5000))}x less`,
        verdict: 'info',
      },
      {
        figure: 'store, recordHeartbeat without a status change, 5,000 instances',
        value: `${fmt.num(us('5000 instances', 'recordHeartbeat'))} µs`,
        verdict: 'info',
      },
    ],
    tables: mdTable(
      ['group', 'benchmark', 'median per iteration', 'samples'],
      results.map((r) => [r.group, r.name, `${fmt.num(r.us)} µs`, fmt.int(r.samples)])
    ),
    seconds: (performance.now() - t0) / 1000,
  }
  return report
}
