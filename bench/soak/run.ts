/**
 * `npm run soak [-- options]`: a real bridge process on loopback under heartbeat senders,
 * pollers, stream clients that connect, resume and drop, and the fuzzers' malformed requests,
 * for a bounded time; with a private Docker engine (when one can run here) whose compose project
 * keeps crashing and whose dockerd is restarted during the run. Samples the bridge from outside
 * (RSS, CPU, event-loop delay from /metrics), then judges: no 5xx, no crash, RSS slope within
 * noise, every final status right (against the senders and `docker compose ps`), every live
 * stream client's document equal to `GET /health`, a clean SIGTERM. Exit 1 on any problem.
 * Options: bench/soak/options.ts. Summary: bench/out/soak/summary.{json,md}.
 */
import { cpus, loadavg, release, totalmem } from 'node:os'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { REPO_ROOT } from '../lib/proc.js'

import { startSoakBridge, type SoakBridge } from './bridge.js'
import { chaosUnavailable, startChaos, type Chaos } from './chaos.js'
import { finalChecks, getDoc } from './final.js'
import { runMalformed, type MalformedResult } from './malformed.js'
import { parseOptions } from './options.js'
import { runPollers } from './pollers.js'
import { requestTable, writeSummary, type SoakSummary } from './report.js'
import { Sampler } from './samplers.js'
import { runSenders, SOAK_PREFIX } from './senders.js'
import { runStreams } from './streams.js'
import { sleep, Tally } from './tally.js'
import { fitSlope, requestProblems } from './verdict.js'
import { percentile, median } from '../lib/stats.js'

const CRASHLOOP_RESTARTS = 2
const log = (m: string) => {
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`)
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2))
  const out = resolve(REPO_ROOT, opts.out)
  mkdirSync(out, { recursive: true })
  let chaos: Chaos | null = null
  let bridge: SoakBridge | null = null
  const cleanup = async () => {
    if (bridge?.exited() === null) await bridge.stop(2000)
    await chaos?.destroy()
  }
  // Bounded whatever happens: the run, the final checks, and the teardown.
  const watchdog = setTimeout(
    () => {
      log('watchdog: the soak overran; cleaning up')
      void cleanup().finally(() => process.exit(2))
    },
    opts.durationMs + 10 * 60_000
  )
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void cleanup().finally(() => process.exit(130)))

  try {
    const noDocker = opts.docker === 'off' ? 'off by --docker off' : await chaosUnavailable()
    if (noDocker !== null && opts.docker === 'on') throw new Error(`--docker on, but ${noDocker}`)
    if (noDocker !== null) log(`Docker part skipped: ${noDocker}`)
    else {
      log('starting a private dockerd and the compose project')
      chaos = await startChaos()
      log(`engine ${chaos.engineVersion}, project ${chaos.project}`)
    }
    bridge = await startSoakBridge(
      {
        LOG_LEVEL: 'warn',
        // Senders beat every 1-5 s; the final checks must run before silence turns them unhealthy.
        HEARTBEAT_TIMEOUT: '60s',
        MAX_INSTANCES: String(Math.max(5000, opts.senders * 2)),
        MAX_STREAMS: String(Math.max(100, opts.streams * 2)),
        CRASHLOOP_RESTARTS: String(CRASHLOOP_RESTARTS),
        ...(chaos ? chaos.bridgeEnv : { DOCKER: 'off' }),
      },
      join(out, 'bridge.log')
    )
    const b = bridge
    log(`bridge ${b.url} pid ${b.pid}; load for ${opts.durationMs / 1000} s`)
    return await soak(opts, b, chaos, out)
  } finally {
    clearTimeout(watchdog)
    await cleanup()
  }
}

async function soak(
  opts: ReturnType<typeof parseOptions>,
  bridge: SoakBridge,
  chaos: Chaos | null,
  out: string
): Promise<number> {
  const tally = new Tally()
  const known = new Set<string>()
  const startedAt = Date.now()
  const loadStart = loadavg()
  let stopped = false
  let settling = false
  let closing = false
  const sampler = new Sampler(
    bridge.pid,
    bridge.url,
    startedAt,
    () => tally.total(),
    (s) => {
      log(
        `t=${s.t.toFixed(0)}s rss=${s.rssMiB.toFixed(1)} heap=${s.heapUsedMiB.toFixed(0)} ext=${s.externalMiB.toFixed(0)} MiB loop p99=${s.loopP99Ms.toFixed(1)} ms cpu=${s.cpuPct.toFixed(0)}% load=${s.load1.toFixed(2)} requests=${s.requests}`
      )
    }
  )
  await sampler.start(opts.sampleEveryMs)
  const interval = { intervalMinMs: opts.intervalMinMs, intervalMaxMs: opts.intervalMaxMs }
  const senders = runSenders({
    url: bridge.url,
    count: opts.senders,
    services: opts.services,
    flip: opts.flip,
    tally,
    known,
    stopped: () => stopped,
    ...interval,
  })
  const dockerServices = chaos ? ['soak-init', 'soak-web', 'soak-probe', 'soak-crasher'] : []
  const pollers = runPollers({
    url: bridge.url,
    count: opts.pollers,
    tally,
    services: () => [...known, ...dockerServices],
    stopped: () => stopped,
    ...interval,
  })
  const streams = runStreams({
    url: bridge.url,
    count: opts.streams,
    tally,
    settling: () => settling,
    closing: () => closing,
  })
  const malformed = runMalformed({
    url: bridge.url,
    perSecond: opts.malformedPerS,
    seed: opts.seed,
    tally,
    stopped: () => stopped,
  })
  const problems: string[] = []
  const chaosDone = chaos
    ?.run({
      startedAt,
      durationMs: opts.durationMs,
      restarts: opts.engineRestarts,
      stopped: () => stopped,
      dockerState: async () => {
        try {
          return (await getDoc(bridge.url)).bridge.sources.docker.state
        } catch {
          return null
        }
      },
      log,
    })
    .catch((err: unknown) => {
      problems.push(`docker chaos failed: ${(err as Error).message}`)
    })

  while (Date.now() - startedAt < opts.durationMs && bridge.exited() === null) await sleep(500)
  stopped = true
  settling = true
  log('load stopped; waiting for in-flight requests')
  const [, , mal] = (await Promise.all([senders.done, pollers, malformed, chaosDone])) as [
    unknown,
    unknown,
    MalformedResult,
    unknown,
  ]
  const durationS = (Date.now() - startedAt) / 1000
  await sampler.sample()
  sampler.stop()

  const crashed = bridge.exited()
  if (crashed !== null) problems.push(`the bridge died during the run (${crashed})`)
  let final: Awaited<ReturnType<typeof finalChecks>> | null = null
  if (crashed === null) {
    if (chaos) await waitFollowing(bridge.url)
    final = await finalChecks(
      bridge.url,
      senders.states,
      streams.clients,
      chaos,
      CRASHLOOP_RESTARTS
    )
  }
  closing = true
  const sigterm = await bridge.stop()
  await streams.done
  log(`SIGTERM: exit ${sigterm.code} after ${sigterm.ms.toFixed(0)} ms`)

  // ---- the verdict ----
  problems.push(...requestProblems(tally.kinds))
  for (const [k, n] of mal.unexpected)
    problems.push(`${n} x malformed ${k} (not what the fuzz property allows)`)
  const warm = durationS * opts.warmup
  const after = sampler.samples.filter((s) => s.t >= warm).map((s) => ({ t: s.t, mib: s.rssMiB }))
  const fit = fitSlope(after)
  if (after.length >= 3 && !fit.withinNoise)
    problems.push(`RSS grows after warm-up: ${fit.slopeMiBPerMin.toFixed(2)} MiB/min`)
  if (final) {
    const soaked = final.finalDoc.services.filter((s) => s.name.startsWith(SOAK_PREFIX))
    if (soaked.length !== opts.services)
      problems.push(`expected ${opts.services} heartbeat services, found ${soaked.length}`)
    for (const m of final.senders.mismatches.slice(0, 10)) problems.push(`sender ${m}`)
    if (final.senders.mismatches.length > 10)
      problems.push(`... ${final.senders.mismatches.length - 10} more sender mismatches`)
    for (const r of final.compose ?? [])
      if (!r.ok)
        problems.push(
          `${r.container}: ps ${r.psState}/${r.psHealth} -> expected ${r.expected}; bridge ${r.bridgeState}/${r.bridgeHealth} served ${r.served}`
        )
    if (final.strays.length > 0)
      problems.push(`instances compose does not list: ${final.strays.join(', ')}`)
    if (final.streams.live !== opts.streams)
      problems.push(`${final.streams.live} of ${opts.streams} stream clients connected at the end`)
    if (final.streams.mismatched.length > 0)
      problems.push(...final.streams.diffs.map((d) => `stream ${d}`))
  }
  for (const c of streams.clients) problems.push(...c.errors.slice(0, 3))
  if (sigterm.code !== 0) problems.push(`SIGTERM: exit code ${sigterm.code}`)
  if (bridge.errorCount() > 0)
    problems.push(`${bridge.errorCount()} error log lines, first: ${bridge.errorLines[0] ?? ''}`)
  for (const o of chaos?.outages ?? [])
    if (o.recoveredMs === null)
      problems.push(
        `the bridge did not follow the engine again after the restart at ${o.at.toFixed(0)} s`
      )

  const loops = sampler.samples.map((s) => s.loopP99Ms).filter(Number.isFinite)
  const rssAll = sampler.samples.map((s) => s.rssMiB)
  const sum = (f: (c: (typeof streams.clients)[number]) => number) =>
    streams.clients.reduce((n, c) => n + f(c), 0)
  const summary: SoakSummary = {
    command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date(startedAt).toISOString(),
    machine: {
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      ram: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
      node: process.version,
      kernel: release(),
      engine: chaos?.engineVersion ?? 'none',
    },
    options: { ...opts },
    durationS,
    loadAverage: {
      start: loadStart,
      end: loadavg(),
      meanLoad1: median(sampler.samples.map((s) => s.load1)),
    },
    requests: requestTable(tally.kinds),
    retries: tally.retries,
    malformed: { sent: mal.sent, unexpected: Object.fromEntries(mal.unexpected) },
    streams: {
      connects: sum((c) => c.connects),
      resumes: sum((c) => c.resumes),
      drops: sum((c) => c.drops),
      events: sum((c) => c.events),
      deltas: sum((c) => c.deltas),
      'whole documents on resume': sum((c) => c.resumedWhole),
    },
    samples: sampler.samples,
    rss: {
      ...fit,
      startMiB: rssAll[0] ?? NaN,
      peakMiB: Math.max(...rssAll),
      endMiB: rssAll.at(-1) ?? NaN,
    },
    eventLoop: {
      p99OfIntervalP99Ms: percentile(loops, 99),
      medianIntervalP99Ms: median(loops),
      maxMs: Math.max(...sampler.samples.map((s) => s.loopMaxMs).filter(Number.isFinite)),
    },
    docker: chaos
      ? {
          engine: chaos.engineVersion,
          project: chaos.project,
          kills: chaos.kills,
          outages: chaos.outages,
          compose: final?.compose ?? [],
        }
      : null,
    senders: {
      ...(final?.senders ?? { compared: 0, uncertain: 0, mismatches: [] }),
      total: opts.senders,
    },
    streamCompare: final?.streams ?? { live: 0, equal: 0, mismatched: [], diffs: [] },
    sigterm,
    bridgeErrorLines: bridge.errorCount(),
    problems,
    passed: problems.length === 0,
  }
  const files = writeSummary(out, summary)
  process.stdout.write(
    `${files.md}:\n\n${(await import('node:fs')).readFileSync(files.md, 'utf8')}`
  )
  return summary.passed ? 0 : 1
}

async function waitFollowing(url: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await getDoc(url)).bridge.sources.docker.state === 'following') return
    } catch {
      // retry
    }
    await sleep(500)
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    process.exit(2)
  }
)
