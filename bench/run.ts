/**
 * `npm run bench [-- --only read,write] [-- --quick] [-- --profile]`: builds the bridge, runs the
 * benchmarks, prints a table and writes docs/benchmarks.md (a partial or quick run writes
 * bench/out/benchmarks.md instead, unless --write-doc). See docs/benchmarks.md for what each
 * bench measures and why.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { detectionBench } from './benches/detection.js'
import { footprintBench } from './benches/footprint.js'
import { readBench } from './benches/read.js'
import { startupBench } from './benches/startup.js'
import { timeoutBench } from './benches/timeout.js'
import { writeBench } from './benches/write.js'
import { backgroundLoad, machineFacts, type BackgroundLoad } from './lib/machine.js'
import { BENCH_OUT, BRIDGE_DIST, DOC_PATH, REPO_ROOT } from './lib/paths.js'
import { removeAllProjectsSync } from './lib/docker.js'
import { killAllChildren } from './lib/proc.js'
import {
  SUMMARY_HEADER,
  summaryRows,
  textTable,
  type BenchContext,
  type BenchReport,
} from './lib/report.js'
import { renderDoc } from './lib/doc.js'

/** The whole run stops after this, whatever is still running. */
const WATCHDOG_MS = 20 * 60_000

interface Bench {
  id: string
  title: string
  run(ctx: BenchContext): Promise<BenchReport>
}

const BENCHES: Bench[] = [
  { id: 'read', title: 'Read path', run: readBench },
  { id: 'write', title: 'Write path', run: writeBench },
  { id: 'timeout', title: 'Heartbeat timeout precision', run: timeoutBench },
  { id: 'footprint', title: 'Footprint and scaling', run: footprintBench },
  { id: 'startup', title: 'Start-up with 100 containers', run: startupBench },
  { id: 'detection', title: 'Detection latency and cost on the engine', run: detectionBench },
]

interface Args {
  only: string[] | null
  quick: boolean
  profile: boolean
  writeDoc: boolean
  note: string | null
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { only: null, quick: false, profile: false, writeDoc: false, note: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? ''
    if (a === '--quick') args.quick = true
    else if (a === '--profile') args.profile = true
    else if (a === '--write-doc') args.writeDoc = true
    else if (a === '--note') args.note = argv[++i] ?? null
    else if (a === '--only' || a.startsWith('--only=')) {
      const list = a === '--only' ? argv[++i] : a.slice('--only='.length)
      args.only = (list ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(
        `usage: npm run bench -- [--only ${BENCHES.map((b) => b.id).join(',')}] [--quick] [--profile] [--write-doc] [--note "what else ran"]\n`
      )
      process.exit(0)
    } else {
      throw new Error(`unknown argument ${a}; try --help`)
    }
  }
  const unknown = (args.only ?? []).filter((id) => !BENCHES.some((b) => b.id === id))
  if (unknown.length > 0) {
    throw new Error(
      `unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.id).join(', ')}`
    )
  }
  return args
}

function log(message: string): void {
  const t = new Date().toISOString().slice(11, 19)
  process.stderr.write(`[bench ${t}] ${message}\n`)
}

function build(): void {
  log(`compiling src/ into ${BRIDGE_DIST.slice(REPO_ROOT.length + 1)} (tsc -p tsconfig.build.json)`)
  try {
    execFileSync(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        BRIDGE_DIST,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }
    )
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '')
    // tsc still emits on type errors; a tree mid-edit by someone else may have a few.
    log(
      `tsc reported errors (the emitted JavaScript is used anyway):\n${out.split('\n').slice(0, 10).join('\n')}`
    )
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const started = new Date()
  const t0 = performance.now()
  mkdirSync(BENCH_OUT, { recursive: true })
  rmSync(join(BENCH_OUT, 'logs'), { recursive: true, force: true })
  // Bounded whatever happens: a hung bench must not hold the machine.
  setTimeout(() => {
    log(`gave up after ${WATCHDOG_MS / 60_000} minutes`)
    killAllChildren()
    removeAllProjectsSync()
    process.exit(1)
  }, WATCHDOG_MS).unref()
  const ctx: BenchContext = {
    quick: args.quick,
    reps: args.quick ? 2 : 4,
    seconds: args.quick ? 1.5 : 3,
    warmupSeconds: args.quick ? 0.5 : 1,
    profile: args.profile,
    log,
  }
  const facts = await machineFacts()
  log(
    `${facts.cpus} x ${facts.cpuModel}, Node ${facts.node}, ${facts.engine ?? 'no Docker engine'}`
  )
  const before: BackgroundLoad = await backgroundLoad()
  log(`background load before the run: ${before.busyPct.toFixed(0)}% of all cores busy`)
  build()

  const selected = BENCHES.filter((b) => args.only === null || args.only.includes(b.id))
  const reports: BenchReport[] = []
  for (const b of selected) {
    log(`--- ${b.id}: ${b.title}`)
    try {
      reports.push(await b.run(ctx))
    } catch (err) {
      killAllChildren()
      const message = err instanceof Error ? err.message : String(err)
      log(`${b.id} failed: ${message}`)
      reports.push({
        id: b.id,
        title: b.title,
        rows: [{ figure: `failed: ${message}`, value: '', verdict: 'miss' }],
        details: `Failed: ${message}`,
        seconds: 0,
      })
    }
  }
  const after = await backgroundLoad()
  const totalSeconds = (performance.now() - t0) / 1000

  const table = textTable(SUMMARY_HEADER, summaryRows(reports))
  process.stdout.write(`\n${table}\n\n`)
  const partial = args.only !== null || args.quick
  const docPath = partial && !args.writeDoc ? join(BENCH_OUT, 'benchmarks.md') : DOC_PATH
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
  writeFileSync(
    docPath,
    renderDoc({
      reports,
      facts,
      before,
      after,
      started,
      totalSeconds,
      command,
      ctx,
      note: args.note,
    })
  )
  writeFileSync(
    join(BENCH_OUT, 'results.json'),
    JSON.stringify({ started, facts, before, after, reports }, null, 2)
  )
  log(`wrote ${docPath.slice(REPO_ROOT.length + 1)} in ${totalSeconds.toFixed(0)} s total`)
}

process.on('SIGINT', () => {
  killAllChildren()
  removeAllProjectsSync()
  process.exit(130)
})

main().catch((err: unknown) => {
  killAllChildren()
  removeAllProjectsSync()
  process.stderr.write(
    `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`
  )
  process.exit(1)
})
