/**
 * `npm run bench:slow` (or `npx tsx bench/slow-consumers.ts`): what clients that stop reading
 * cost the bridge and everyone else. For each scenario a fresh bridge (`node dist/main.js`,
 * 400 instances, a ~180 KiB document) takes a steady stream of changes while a reading stream
 * client times each change's arrival; meanwhile 0, 1 or 100 stream clients (`?full=1`, the
 * fastest to fill) or 1 or 10 pipelining pollers stop reading. Whenever the bridge lets one go
 * (read from /proc), a new one takes its place, so the pressure lasts the whole run. The
 * bridge's RSS is sampled from /proc/<pid>/status. Latencies are compared with the baseline
 * (no slow client) of the same run.
 *
 * SLOW_SECONDS (default 20) per scenario, SLOW_RATE (default 20) changes per second.
 */
import { connect, type Socket } from 'node:net'
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

import { SseParser } from '../src/client/sse.js'
import { ensureBuilt } from '../test/helpers/bridge-process.js'
import { heldClientPorts, stalledClient } from '../test/helpers/slow-clients.js'

import { layout, postHeartbeat, type InstanceRef } from './lib/heartbeats.js'
import { killAllChildren, rssMiB, startBridge } from './lib/proc.js'
import { distribution, median } from './lib/stats.js'

const SECONDS = Number(process.env.SLOW_SECONDS ?? 20)
/** SLOW_ONLY=1,2: run only these scenarios (indexes; the baseline always runs). */
const ONLY = process.env.SLOW_ONLY?.split(',').map(Number)
const RATE = Number(process.env.SLOW_RATE ?? 20)
const INSTANCES = 400
const PIPELINED = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2000)
const STREAM_FULL = 'GET /health/stream?full=1 HTTP/1.1\r\nHost: x\r\n\r\n'

interface Scenario {
  name: string
  streams: number
  pollers: number
  /** A control: `streams` clients that do read (`?full=1`), to tell slowness from volume. */
  reading?: boolean
}
const SCENARIOS: Scenario[] = [
  { name: 'baseline (no slow client)', streams: 0, pollers: 0 },
  { name: 'control: 1 stream client reading ?full=1', streams: 1, pollers: 0, reading: true },
  { name: '1 stream client not reading', streams: 1, pollers: 0 },
  { name: '100 stream clients not reading', streams: 100, pollers: 0 },
  { name: '1 pipelining poller not reading', streams: 0, pollers: 1 },
  { name: '10 pipelining pollers not reading', streams: 0, pollers: 10 },
]

interface Result {
  scenario: Scenario
  rss: { before: number; median: number; peak: number }
  latency: ReturnType<typeof distribution>
  missed: number
  replaced: number
}

const body = (ref: InstanceRef, error?: string) =>
  JSON.stringify({ ...ref, ...(error ? { error } : {}), details: { pad: 'x'.repeat(300) } })

/** A slow client of one kind, replaced as soon as the bridge lets go of it. */
async function slowOne(port: number, kind: 'stream' | 'poller'): Promise<Socket> {
  if (kind === 'stream') return (await stalledClient(port, STREAM_FULL)).socket
  const s: Socket = connect(port, '127.0.0.1')
  s.pause()
  s.on('error', () => undefined)
  await new Promise((resolve) => s.once('connect', resolve))
  s.write(PIPELINED)
  return s
}

async function run(scenario: Scenario): Promise<Result> {
  const bridge = await startBridge(`slow-${scenario.streams}s-${scenario.pollers}p`, {
    MAX_STREAMS: '110',
    LOG_LEVEL: 'warn',
  })
  const port = Number(new URL(bridge.url).port)
  try {
    const refs = layout(INSTANCES, 25)
    for (let i = 0; i < refs.length; i += 40) {
      await Promise.all(refs.slice(i, i + 40).map((r) => postHeartbeat(bridge.url, body(r))))
    }

    // The reading client: when did change n (its marker "seq-n") arrive?
    const arrived = new Map<number, number>()
    const controller = new AbortController()
    const res = await fetch(`${bridge.url}/health/stream`, { signal: controller.signal })
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader()
    const parser = new SseParser()
    void (async () => {
      try {
        for (;;) {
          const chunk = await reader?.read()
          if (!chunk || chunk.done) return
          const now = performance.now()
          for (const e of parser.push(chunk.value))
            for (const m of e.data.matchAll(/seq-(\d+)/g))
              if (!arrived.has(Number(m[1]))) arrived.set(Number(m[1]), now)
        }
      } catch {
        // Aborted at the end.
      }
    })()
    await sleep(500)
    const before = rssMiB(bridge.pid)

    const slow: Socket[] = []
    const kind = scenario.streams > 0 ? 'stream' : 'poller'
    for (let i = 0; i < scenario.streams + scenario.pollers; i++) {
      slow.push(await slowOne(port, kind))
    }
    const readers = scenario.reading ? slow.splice(0).map((s) => s.resume()) : []
    let replaced = 0
    const done = { stop: false }
    const samples: number[] = []
    const watcher = (async () => {
      while (!done.stop) {
        samples.push(rssMiB(bridge.pid))
        const held = heldClientPorts(bridge.pid, port)
        for (let i = 0; i < slow.length; i++) {
          const s = slow[i]
          if (s && !held.has(s.localPort ?? -1)) {
            s.destroy()
            slow[i] = await slowOne(port, kind)
            replaced++
          }
        }
        await sleep(250)
      }
    })()

    // Changes at RATE per second, each carrying its sequence number in the error message.
    const sent = new Map<number, number>()
    const start = performance.now()
    for (let n = 0; performance.now() - start < SECONDS * 1000; n++) {
      const due = start + (n * 1000) / RATE
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
      const ref = refs[n % refs.length]
      if (!ref) continue
      sent.set(n, performance.now())
      void postHeartbeat(bridge.url, body(ref, `seq-${n} connection refused`)).catch(
        () => undefined
      )
    }
    await sleep(2000)
    done.stop = true
    await watcher
    controller.abort()
    for (const s of [...slow, ...readers]) s.destroy()

    const latencies: number[] = []
    let missed = 0
    for (const [n, t] of sent) {
      const a = arrived.get(n)
      if (a === undefined) missed++
      else latencies.push(a - t)
    }
    return {
      scenario,
      rss: { before, median: median(samples), peak: Math.max(...samples) },
      latency: distribution(latencies),
      missed,
      replaced,
    }
  } finally {
    await bridge.stop()
  }
}

const f1 = (x: number) => x.toFixed(1)

async function main(): Promise<void> {
  await ensureBuilt()
  const load = os.loadavg().map(f1).join(' / ')
  const results: Result[] = []
  for (const [i, s] of SCENARIOS.entries()) {
    if (ONLY && i > 0 && !ONLY.includes(i)) continue
    process.stderr.write(`[slow] ${s.name}...\n`)
    results.push(await run(s))
  }
  const base = results[0]?.latency.p50 ?? Number.NaN
  const lines = [
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, load average before the run ${load}; ${SECONDS} s per scenario at ${RATE} changes/s, ${INSTANCES} instances.`,
    '',
    '| scenario | bridge RSS before / median / peak (MiB) | change delivery p50 / p99 / max (ms) | p50 vs baseline | missed | slow clients let go and replaced |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.scenario.name} | ${f1(r.rss.before)} / ${f1(r.rss.median)} / ${f1(r.rss.peak)} | ${f1(r.latency.p50)} / ${f1(r.latency.p99)} / ${f1(r.latency.max)} | ${(r.latency.p50 / base).toFixed(2)}x | ${r.missed} of ${r.latency.n + r.missed} | ${r.replaced} |`
    ),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 1
  })
  .finally(killAllChildren)
