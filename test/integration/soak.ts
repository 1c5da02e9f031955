/**
 * Soak runner (not part of `npm test`): a real bridge process on loopback under N heartbeat
 * senders, M pollers and a stream of malformed requests for a bounded time, sampling the
 * bridge's RSS. It fails (exit 1) on any 5xx, a dead bridge, a wrong final status, or RSS that
 * keeps growing after warm-up.
 *
 *   npx tsx test/integration/soak.ts                               # 60 s, 200 senders, 50 pollers
 *   npx tsx test/integration/soak.ts --duration 10m --senders 1000 --pollers 200 --malformed 500
 *   npx tsx test/integration/soak.ts --url http://127.0.0.1:8080 --pid 1234   # a running bridge
 *
 * Options: --duration (default 60s), --senders (200), --pollers (50), --interval (sender and
 * poller period, 1s), --malformed (malformed requests per second, 200), --warmup (fraction of the
 * run excluded from the RSS verdict, 0.25), --max-growth (allowed RSS growth after warm-up, 0.15).
 * The spawned bridge runs heartbeat-only (DOCKER=off); pass --docker to keep the environment's
 * DOCKER / COMPOSE_PROJECT_NAME, for a soak against a real project on a dedicated engine.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { parseDuration } from '../../src/config/duration.js'

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60s' },
    senders: { type: 'string', default: '200' },
    pollers: { type: 'string', default: '50' },
    interval: { type: 'string', default: '1s' },
    malformed: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '0.25' },
    'max-growth': { type: 'string', default: '0.15' },
    url: { type: 'string' },
    pid: { type: 'string' },
    docker: { type: 'boolean', default: false },
  },
})

const DURATION_MS = parseDuration(args.duration) ?? 60_000
const SENDERS = Number(args.senders)
const POLLERS = Number(args.pollers)
const INTERVAL_MS = parseDuration(args.interval) ?? 1000
const MALFORMED_PER_S = Number(args.malformed)
const WARMUP = Number(args.warmup)
const MAX_GROWTH = Number(args['max-growth'])
const SERVICES = Math.max(1, Math.min(50, SENDERS))
const RSS_EVERY_MS = 5000

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const jitter = (ms: number) => ms * (0.5 + Math.random())

// ---- the bridge ------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => {
        resolve(port)
      })
    })
  })
}

interface Bridge {
  url: string
  pid: number
  child: ChildProcess | null
  errorLines: string[]
}

async function startBridge(): Promise<Bridge> {
  if (args.url !== undefined) {
    return { url: args.url, pid: Number(args.pid ?? 0), child: null, errorLines: [] }
  }
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    HEARTBEAT_TIMEOUT: `${Math.max(10, Math.ceil((INTERVAL_MS * 10) / 1000))}s`,
    MAX_INSTANCES: String(Math.max(5000, SENDERS * 2)),
  }
  if (!args.docker) env.DOCKER = 'off'
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const errorLines: string[] = []
  const watch = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      let level: number
      try {
        level = (JSON.parse(line) as { level?: number }).level ?? 0
      } catch {
        level = 60 // not our NDJSON: a crash trace or a fatal message
      }
      if (level >= 50) errorLines.push(line.slice(0, 500))
    }
  }
  child.stdout.on('data', watch)
  child.stderr.on('data', watch)
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      if ((await fetch(`${url}/health/live`)).ok) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the bridge did not start (exit ${child.exitCode}): ${errorLines.join('\n')}`)
    }
    await sleep(100)
  }
  return { url, pid: child.pid ?? 0, child, errorLines }
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime, in clock ticks (100/s)
  } catch {
    return null
  }
}

function rssMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
    return kb === undefined ? null : Number(kb) / 1024
  } catch {
    return null
  }
}

// ---- load ----------------------------------------------------------------------------------

interface Tally {
  statuses: Map<number, number>
  latencies: number[]
  networkErrors: number
}
const tallies = new Map<string, Tally>()
function record(kind: string, status: number | null, ms: number): void {
  let t = tallies.get(kind)
  if (!t) {
    t = { statuses: new Map(), latencies: [], networkErrors: 0 }
    tallies.set(kind, t)
  }
  if (status === null) t.networkErrors++
  else t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1)
  // A reservoir keeps memory flat for long runs.
  if (t.latencies.length < 200_000) t.latencies.push(ms)
  else t.latencies[Math.floor(Math.random() * t.latencies.length)] = ms
}

let retries = 0

/**
 * One request, timed. A network error is retried once, as real clients do: a pooled keep-alive
 * connection the server closed just as it was reused is a race of HTTP/1.1, not a failure.
 */
async function timed(kind: string, url: string, init?: RequestInit): Promise<Response | null> {
  const start = performance.now()
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, init)
      await res.arrayBuffer()
      record(kind, res.status, performance.now() - start)
      return res
    } catch {
      if (attempt === 0) {
        retries++
        continue
      }
      record(kind, null, performance.now() - start)
      return null
    }
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' }
const serviceOf = (i: number) => `soak-svc-${i % SERVICES}`

async function sender(url: string, i: number, until: number): Promise<void> {
  await sleep(Math.random() * INTERVAL_MS)
  while (Date.now() < until) {
    const body = JSON.stringify({
      service: serviceOf(i),
      instance: `inst-${i}`,
      details: { seq: Math.floor(Math.random() * 1e6), queueDepth: i % 7 },
    })
    await timed('heartbeat', `${url}/health`, { method: 'POST', headers: JSON_HEADERS, body })
    await sleep(jitter(INTERVAL_MS))
  }
}

async function poller(url: string, i: number, until: number): Promise<void> {
  let etag: string | null = null
  await sleep(Math.random() * INTERVAL_MS)
  while (Date.now() < until) {
    if (i % 5 === 0) {
      await timed('poll-service', `${url}/health?service=${serviceOf(i)}`)
    } else {
      const res = await timed('poll', `${url}/health`, {
        headers: etag === null ? {} : { 'if-none-match': etag },
      })
      etag = res?.headers.get('etag') ?? etag
    }
    await sleep(jitter(INTERVAL_MS))
  }
}

/** Bad requests of every kind the bridge must refuse cleanly. */
const MALFORMED: { kind: string; send: (url: string) => Promise<unknown> }[] = [
  {
    kind: 'bad-json',
    send: (u) =>
      timed('malformed', `${u}/health`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: '{"service":',
      }),
  },
  {
    kind: 'bad-schema',
    send: (u) =>
      timed('malformed', `${u}/health`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: '{"service":"../etc","eror":1}',
      }),
  },
  {
    kind: 'media-type',
    send: (u) =>
      timed('malformed', `${u}/health`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hi',
      }),
  },
  {
    kind: 'too-large',
    send: (u) =>
      timed('malformed', `${u}/health`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ service: 'x', details: { pad: 'x'.repeat(20_000) } }),
      }),
  },
  {
    kind: 'deep',
    send: (u) =>
      timed('malformed', `${u}/health`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: `{"service":"x","details":{"d":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
      }),
  },
  { kind: 'bad-query', send: (u) => timed('malformed', `${u}/health?servce=x&limit=%zz`) },
  {
    kind: 'unknown-service',
    send: (u) => timed('malformed', `${u}/health?service=nope-${Math.floor(Math.random() * 1e9)}`),
  },
  {
    kind: 'bad-delete',
    send: (u) =>
      timed('malformed', `${u}/health?service=nope&instance=${Math.floor(Math.random() * 1e9)}`, {
        method: 'DELETE',
      }),
  },
  {
    kind: 'method',
    send: (u) =>
      timed('malformed', `${u}/health`, { method: 'PUT', headers: JSON_HEADERS, body: '{}' }),
  },
  {
    kind: 'scan',
    send: (u) => timed('malformed', `${u}/wp-admin/${Math.floor(Math.random() * 1e9)}.php`),
  },
  { kind: 'raw-garbage', send: (u) => rawGarbage(u) },
]

/** Bytes that are not HTTP at all: Node's parser answers 400 and closes. */
function rawGarbage(url: string): Promise<void> {
  const { hostname, port } = new URL(url)
  const start = performance.now()
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => (received += d))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]
      record('malformed', status === undefined ? 0 : Number(status), performance.now() - start)
      resolve()
    })
    socket.on('connect', () => {
      socket.end(`\u0000\u00ff GARBAGE ${Math.random()}\r\n\r\n`)
    })
  })
}

async function malformed(url: string, until: number): Promise<void> {
  if (MALFORMED_PER_S <= 0) return
  // Up to 32 in flight, paced to the target rate.
  const inFlight = new Set<Promise<unknown>>()
  const gapMs = 1000 / MALFORMED_PER_S
  let next = Date.now()
  let i = 0
  while (Date.now() < until) {
    const m = MALFORMED[i++ % MALFORMED.length]
    if (m) {
      const p = m.send(url).finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    if (inFlight.size >= 32) await Promise.race(inFlight)
    next += gapMs
    const wait = next - Date.now()
    if (wait > 1) await sleep(wait)
  }
  await Promise.all(inFlight)
}

// ---- report ----------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

async function main(): Promise<void> {
  const bridge = await startBridge()
  const started = Date.now()
  const until = started + DURATION_MS
  process.stdout.write(
    `soak: ${bridge.url} pid ${bridge.pid}, ${SENDERS} senders over ${SERVICES} services, ${POLLERS} pollers, ` +
      `every ${INTERVAL_MS} ms, ${MALFORMED_PER_S} malformed/s, for ${DURATION_MS / 1000} s\n`
  )

  const cpuStart = cpuSeconds(bridge.pid)
  const selfCpuStart = process.cpuUsage()
  const loadStart = loadavg()[0] ?? 0
  const rss: { at: number; mib: number }[] = []
  const sampleRss = () => {
    const mib = rssMiB(bridge.pid)
    if (mib !== null) rss.push({ at: (Date.now() - started) / 1000, mib })
  }
  sampleRss()
  const rssTimer = setInterval(() => {
    sampleRss()
    const last = rss.at(-1)
    const total = [...tallies.values()].reduce((n, t) => n + t.latencies.length, 0)
    process.stdout.write(
      `  t=${last?.at.toFixed(0) ?? '?'}s rss=${last?.mib.toFixed(1) ?? '?'} MiB requests=${total}\n`
    )
  }, RSS_EVERY_MS)

  await Promise.all([
    ...Array.from({ length: SENDERS }, (_, i) => sender(bridge.url, i, until)),
    ...Array.from({ length: POLLERS }, (_, i) => poller(bridge.url, i, until)),
    malformed(bridge.url, until),
  ])
  clearInterval(rssTimer)
  sampleRss()
  const elapsedS = (Date.now() - started) / 1000
  const cpuEnd = cpuSeconds(bridge.pid)
  const bridgeCpu = cpuStart === null || cpuEnd === null ? null : (cpuEnd - cpuStart) / elapsedS
  const self = process.cpuUsage(selfCpuStart)
  const selfCpu = (self.user + self.system) / 1e6 / elapsedS
  const loadEnd = loadavg()[0] ?? 0

  // ---- verdict ----
  const problems: string[] = []
  const doc = (await (await fetch(`${bridge.url}/health`)).json()) as {
    services: { name: string; status: string; instances: { id: string; status: string }[] }[]
  }
  const soaked = doc.services.filter((s) => s.name.startsWith('soak-svc-'))
  if (soaked.length !== SERVICES)
    problems.push(`expected ${SERVICES} soak services, found ${soaked.length}`)
  const instances = soaked.reduce((n, s) => n + s.instances.length, 0)
  if (instances !== SENDERS) problems.push(`expected ${SENDERS} instances, found ${instances}`)
  const wrong = soaked.filter((s) => s.status !== 'healthy').map((s) => `${s.name}=${s.status}`)
  if (wrong.length > 0) problems.push(`services not healthy at the end: ${wrong.join(', ')}`)

  const lines: string[] = []
  for (const [kind, t] of [...tallies.entries()].sort()) {
    const sorted = [...t.latencies].sort((a, b) => a - b)
    const codes = [...t.statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}:${n}`)
      .join(' ')
    const total = [...t.statuses.values()].reduce((a, b) => a + b, 0) + t.networkErrors
    lines.push(
      `  ${kind.padEnd(13)} ${String(total).padStart(8)} req  p50 ${percentile(sorted, 50).toFixed(1)} ms  p99 ${percentile(sorted, 99).toFixed(1)} ms  ${codes}${t.networkErrors ? `  network-errors:${t.networkErrors}` : ''}`
    )
    for (const [status, n] of t.statuses)
      // 503 is a health answer on the read side (something is unhealthy), never on writes.
      if (status >= 500 && !(status === 503 && kind.startsWith('poll'))) {
        problems.push(`${n} x ${status} on ${kind}`)
      }
    if (t.networkErrors > 0) problems.push(`${t.networkErrors} network errors on ${kind}`)
  }

  // GC makes RSS a sawtooth: compare the median of the first and second half after warm-up.
  const afterWarmup = rss.filter((s) => s.at >= (DURATION_MS / 1000) * WARMUP).map((s) => s.mib)
  const half = Math.floor(afterWarmup.length / 2)
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  const base = median(afterWarmup.slice(0, half))
  const end = median(afterWarmup.slice(half))
  const peak = Math.max(...afterWarmup)
  const growth = base > 0 ? (end - base) / base : 0
  if (growth > MAX_GROWTH) {
    problems.push(
      `RSS grew ${(growth * 100).toFixed(1)}% after warm-up (median ${base.toFixed(1)} -> ${end.toFixed(1)} MiB)`
    )
  }

  if (bridge.errorLines.length > 0)
    problems.push(
      `${bridge.errorLines.length} error log lines, first: ${bridge.errorLines[0] ?? ''}`
    )

  let stopMs = 0
  if (bridge.child) {
    if (bridge.child.exitCode !== null)
      problems.push(`the bridge died (exit ${bridge.child.exitCode})`)
    const t0 = Date.now()
    const exited = new Promise<number | null>((resolve) => {
      bridge.child?.once('exit', (code) => {
        resolve(code)
      })
    })
    bridge.child.kill('SIGTERM')
    const code = await exited
    stopMs = Date.now() - t0
    if (code !== 0) problems.push(`SIGTERM: exit code ${code}`)
  }

  process.stdout.write(
    [
      '',
      `requests by kind (status:count):`,
      ...lines,
      `RSS MiB: start ${rss[0]?.mib.toFixed(1) ?? '?'}; after warm-up median ${base.toFixed(1)} (first half) -> ${end.toFixed(1)} (second half), growth ${(growth * 100).toFixed(1)}%, peak ${peak.toFixed(1)}`,
      `network errors retried once: ${retries}`,
      `RSS samples: ${rss.map((s) => `${s.at.toFixed(0)}s=${s.mib.toFixed(0)}`).join(' ')}`,
      `CPU: bridge ${bridgeCpu === null ? '?' : `${(bridgeCpu * 100).toFixed(0)}%`} of a core, load generator ${(selfCpu * 100).toFixed(0)}%; load average ${loadStart.toFixed(1)} -> ${loadEnd.toFixed(1)} on ${cpus().length} CPUs`,
      `final: ${soaked.length} services, ${instances} instances, all healthy: ${wrong.length === 0}`,
      bridge.child ? `shutdown on SIGTERM: ${stopMs} ms` : '',
      problems.length === 0 ? 'SOAK PASSED' : `SOAK FAILED:\n  - ${problems.join('\n  - ')}`,
      '',
    ].join('\n')
  )
  process.exit(problems.length === 0 ? 0 : 1)
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(2)
})
