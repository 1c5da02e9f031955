/**
 * `npm run bench:hub [-- --peers 3,20] [--instances 30] [--changes 100] [--quick] [--no-doc]`
 *
 * A hub and its peers, every bridge a process of its own (`node main.js`, compiled from src/),
 * heartbeat-only, measured from outside:
 *
 * - latency: a heartbeat changes an instance's status on one peer (healthy -> unhealthy and
 *   back, at a random peer and instance); how long until the hub's SSE stream carries it, and
 *   until a poller of the hub (`GET /health?service=&instance=` every 20 ms) sees it. p50/p99.
 * - cost: the hub's CPU (from /proc/<pid>/stat) and RSS (/proc/<pid>/status) while idle (peers
 *   send only keep-alives), while every instance heartbeats every 10 s (bookkeeping the peers
 *   do not forward), and during the latency run; with 3 and with 20 peers.
 *
 * Prints the figures and writes them into the "## Several hosts" section at the end of
 * docs/benchmarks.md (replacing that section only; the rest of the file is another bench's).
 * Self-contained: nothing here depends on the rest of bench/.
 */
import { cpus, totalmem } from 'node:os'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

import {
  compileBridge,
  cpuMem,
  killAll,
  machineBusy,
  startBridge,
  usageDuring,
  type Bridge,
  type Usage,
} from './processes.js'
import { Poller, StreamWatcher } from './watchers.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const OUT = join(REPO_ROOT, 'bench', 'out', 'hub')
const DOC = join(REPO_ROOT, 'docs', 'benchmarks.md')
const SECTION = '## Several hosts'
/** The workers of a CLP host; instances are spread over them. */
const SERVICES = ['compression-worker', 'query-worker', 'reducer']
const TOKEN = 'bench-peer-token-0123456789'
const POLL_EVERY_MS = 20
/** The whole run stops after this, whatever is still running. */
const WATCHDOG_MS = 15 * 60_000

interface Args {
  peers: number[]
  instances: number
  changes: number
  windowS: number
  doc: boolean
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { peers: [3, 20], instances: 30, changes: 100, windowS: 10, doc: true }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => argv[++i] ?? ''
    if (a === '--peers') args.peers = next().split(',').map(Number)
    else if (a === '--instances') args.instances = Number(next())
    else if (a === '--changes') args.changes = Number(next())
    else if (a === '--quick') Object.assign(args, { changes: 20, windowS: 3, doc: false })
    else if (a === '--no-doc') args.doc = false
    else throw new Error(`unknown argument ${a ?? ''}`)
  }
  return args
}

function log(message: string): void {
  process.stderr.write(`[bench:hub ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

async function beat(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (res.status !== 202) throw new Error(`heartbeat: HTTP ${res.status} ${await res.text()}`)
}

function instancesOfPeer(n: number): { service: string; instance: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    service: SERVICES[i % SERVICES.length] ?? 'worker',
    instance: `clp-package-bench-${SERVICES[i % SERVICES.length] ?? 'worker'}-${Math.floor(i / SERVICES.length) + 1}`,
  }))
}

interface Result {
  peers: number
  instances: number
  syncS: number
  rssAfterSyncMiB: number
  idle: Usage
  steady: Usage
  changes: Usage
  streamMs: number[]
  pollMs: number[]
  polls: number
  busyPct: number
}

async function runWith(main: string, nPeers: number, args: Args): Promise<Result> {
  const busy = machineBusy()
  const perPeer = instancesOfPeer(args.instances)
  log(`${nPeers} peers x ${args.instances} instances: starting the peers`)
  const peers: Bridge[] = []
  // Four at a time: a 2-core machine starts node processes no faster all at once.
  for (let p = 1; p <= nPeers; p += 4) {
    const batch = Array.from({ length: Math.min(4, nPeers - p + 1) }, (_, k) =>
      // A long timeout: an instance registered once stays healthy unless the bench changes it.
      startBridge(main, `worker-${p + k}`, { READ_TOKEN: TOKEN, HEARTBEAT_TIMEOUT: '1h' })
    )
    peers.push(...(await Promise.all(batch)))
  }
  await Promise.all(
    peers.map(async (peer) => {
      for (const i of perPeer) await beat(peer.url, i)
    })
  )
  const started = performance.now()
  const hub = await startBridge(main, 'hub', {
    PEERS: peers.map((p) => `${p.name}=${p.url}`).join(','),
    PEER_TOKEN: TOKEN,
    PEER_STALE_AFTER: '10s',
  })
  const total = nPeers * args.instances
  const stream = new StreamWatcher(hub.url)
  for (;;) {
    const d = (await (await fetch(`${hub.url}/health`)).json()) as {
      status: string
      services: { instances: unknown[] }[]
    }
    const n = d.services.reduce((a, s) => a + s.instances.length, 0)
    if (n === total && d.status === 'healthy') break
    if (performance.now() - started > 60_000) throw new Error(`hub has ${n} of ${total} instances`)
    await sleep(50)
  }
  const syncS = (performance.now() - started) / 1000
  await stream.open()
  // Settle: the start-up's compilation and garbage are not what idle costs.
  await sleep(3000)
  const rssAfterSyncMiB = cpuMem(hub.pid).rssMiB
  log(`hub synced in ${syncS.toFixed(2)} s; measuring idle for ${args.windowS} s`)

  const idle = await usageDuring(hub.pid, () => sleep(args.windowS * 1000))

  log(`every instance heartbeats every 10 s, for ${args.windowS} s`)
  const steady = await usageDuring(hub.pid, async () => {
    const end = performance.now() + args.windowS * 1000
    const all = peers.flatMap((peer) => perPeer.map((i) => ({ url: peer.url, ...i })))
    // 10 s between two heartbeats of one instance, spread evenly over the window.
    const gapMs = 10_000 / all.length
    let k = 0
    while (performance.now() < end) {
      const next = all[k++ % all.length]
      if (next) void beat(next.url, { service: next.service, instance: next.instance })
      await sleep(gapMs)
    }
  })

  log(`${args.changes} status changes at random peers`)
  const streamMs: number[] = []
  const pollMs: number[] = []
  let polls = 0
  const changes = await usageDuring(hub.pid, async () => {
    for (let c = 0; c < args.changes; c++) {
      const peer = peers[Math.floor(Math.random() * peers.length)]
      const target = perPeer[Math.floor(Math.random() * perPeer.length)]
      if (!peer || !target) continue
      const key = `${target.service}/${target.instance}@${peer.name}`
      const poller = new Poller(hub.url, key, POLL_EVERY_MS)
      poller.start()
      await poller.when('healthy', 5000)
      // Waiters first, then the change: nothing seen before t0 can count.
      const seenInStream = stream.when(key, 'unhealthy', 5000)
      const seenByPoller = poller.when('unhealthy', 5000)
      const t0 = performance.now()
      await beat(peer.url, { ...target, error: `bench change ${c}` })
      streamMs.push((await seenInStream) - t0)
      pollMs.push((await seenByPoller) - t0)
      await poller.stop()
      polls += poller.polls
      // Back to healthy, and the stream agrees, before the next change.
      const healed = stream.when(key, 'healthy', 5000)
      await beat(peer.url, target)
      await healed
      await sleep(50 + Math.random() * 100)
    }
  })
  await stream.close()
  await hub.stop()
  for (const p of peers) await p.stop()
  return {
    peers: nPeers,
    instances: total,
    syncS,
    rssAfterSyncMiB,
    idle,
    steady,
    changes,
    streamMs: streamMs.sort((a, b) => a - b),
    pollMs: pollMs.sort((a, b) => a - b),
    polls,
    busyPct: busy(),
  }
}

const ms = (v: number) => `${v.toFixed(1)} ms`
const pct = (v: number) => `${v.toFixed(1)} %`
const mib = (v: number) => `${v.toFixed(0)} MiB`

function table(results: readonly Result[]): string {
  const rows: string[][] = [
    ['', ...results.map((r) => `${r.peers} peers, ${r.instances} instances`)],
    ['change -> hub SSE stream, p50', ...results.map((r) => ms(percentile(r.streamMs, 50)))],
    ['change -> hub SSE stream, p99', ...results.map((r) => ms(percentile(r.streamMs, 99)))],
    [
      `change -> poller (every ${POLL_EVERY_MS} ms), p50`,
      ...results.map((r) => ms(percentile(r.pollMs, 50))),
    ],
    [
      `change -> poller (every ${POLL_EVERY_MS} ms), p99`,
      ...results.map((r) => ms(percentile(r.pollMs, 99))),
    ],
    ['changes measured', ...results.map((r) => String(r.streamMs.length))],
    ['hub process start -> all peers merged', ...results.map((r) => `${r.syncS.toFixed(2)} s`)],
    ['hub RSS after sync', ...results.map((r) => mib(r.rssAfterSyncMiB))],
    ['hub CPU, idle (keep-alives only)', ...results.map((r) => pct(r.idle.cpuPct))],
    ['hub CPU, every instance heartbeating / 10 s', ...results.map((r) => pct(r.steady.cpuPct))],
    ['hub CPU, during the changes + poller', ...results.map((r) => pct(r.changes.cpuPct))],
    [
      'hub peak RSS (all phases)',
      ...results.map((r) =>
        mib(Math.max(r.idle.peakRssMiB, r.steady.peakRssMiB, r.changes.peakRssMiB))
      ),
    ],
    ['machine busy meanwhile (all cores)', ...results.map((r) => pct(r.busyPct))],
  ]
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`
  return [
    line(rows[0] ?? []),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.slice(1).map(line),
  ].join('\n')
}

function section(results: readonly Result[], args: Args, command: string, seconds: number): string {
  const cpu = cpus()
  const when = new Date().toISOString().slice(0, 10)
  return `${SECTION}

A hub following N peers, every bridge a process of its own (\`node main.js\` compiled from src/,
heartbeat-only: \`DOCKER=off\`), ${args.instances} instances per peer (${SERVICES.join(', ')}).
Everything is measured from outside the processes:

- latency: by the bench's clock, from just before the heartbeat that changes an instance's
  status (healthy -> unhealthy, at a random peer and instance) is sent to that peer, until the
  hub's \`GET /health/stream\` carries it, and until a poller of the hub's
  \`GET /health?service=&instance=\` sees it (one request, then ${POLL_EVERY_MS} ms of pause: that
  pause is part of its figure);
- cost: the hub's CPU from \`/proc/<pid>/stat\` (% of one core) and RSS from
  \`/proc/<pid>/status\`, over ${args.windowS} s windows: idle (the peers send keep-alives
  only), while every instance heartbeats every 10 s (bookkeeping, which peers do not forward),
  and during the changes (with the poller running).

\`\`\`
${command}
\`\`\`

${table(results)}

${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${when}; the run took
${seconds.toFixed(0)} s. The machine was shared with other work (the last row): the tails (p99)
are as much that machine's as the hub's, and CPU figures of a percent or two are near the
resolution of the measure (one 10 ms tick over a ${args.windowS} s window is ${(1 / args.windowS).toFixed(1)} %); compare
several runs before reading a difference into them.
`
}

/** Replaces the "## Several hosts" section (to the end of the file), or appends it. */
function writeSection(text: string): void {
  const doc = readFileSync(DOC, 'utf8')
  const at = doc.indexOf(`\n${SECTION}\n`)
  // One blank line before the section, however many the file or an earlier run left.
  const head = (at === -1 ? doc : doc.slice(0, at)).replace(/\n*$/, '\n')
  writeFileSync(DOC, `${head}\n${text}`)
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  setTimeout(() => {
    log(`gave up after ${WATCHDOG_MS / 60_000} minutes`)
    killAll()
    process.exit(1)
  }, WATCHDOG_MS).unref()
  const t0 = performance.now()
  mkdirSync(OUT, { recursive: true })
  log('compiling src/ into bench/out/hub/dist')
  const main = compileBridge(REPO_ROOT, join(OUT, 'dist'))
  const results: Result[] = []
  for (const n of args.peers) results.push(await runWith(main, n, args))
  const seconds = (performance.now() - t0) / 1000
  const command = `npm run bench:hub${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
  process.stdout.write(`\n${table(results)}\n\n`)
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2))
  if (args.doc) {
    writeSection(section(results, args, command, seconds))
    log('wrote the "## Several hosts" section of docs/benchmarks.md')
  }
}

process.on('SIGINT', () => {
  killAll()
  process.exit(130)
})

main().catch((err: unknown) => {
  killAll()
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
