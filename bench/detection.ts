/**
 * Docker event -> visible at an SSE client and at a poller of GET /health, on a real engine
 * (`npm run bench -- --docker`; skips with the reason when there is none). The engine's own
 * event stream (timeNano) says when each transition happened; the floors say what part of the
 * tail is the engine's: its event delivery, and how long one inspect takes meanwhile.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { applyDelta } from '../src/client/delta.js'
import { SseParser } from '../src/client/sse.js'
import type { HealthDelta, HealthDocument } from '../src/wire/health-document.js'
import {
  DOCKER_SOCKET,
  TEST_IMAGE,
  docker,
  dockerAvailable,
  removeProject,
  uniqueProject,
} from '../test/helpers/docker.js'
import { RecordingProxy } from '../test/helpers/recording-proxy.js'

import { BENCH_OUT, startBridge } from './lib/proc.js'
import { fmt, mdTable, verdictOf, type BenchContext, type BenchReport } from './lib/report.js'
import { distribution, type Distribution } from './lib/stats.js'

const HOLD_MS = 6000
const TARGET_P99_MS = 20
const now = () => performance.timeOrigin + performance.now()

function composeFile(): string {
  const base = `    image: ${TEST_IMAGE}\n    network_mode: none\n`
  const job = (code: number, n: number) =>
    `${base}    command: ["sh", "-c", "sleep ${HOLD_MS / 1000}; exit ${code}"]\n    labels: { health-bridge.role: job }\n    restart: "no"\n    deploy: { replicas: ${n} }\n`
  return `services:
  flip:
${base}    command: ["sh", "-c", "touch /tmp/ok; exec sleep 3600"]
    healthcheck: { test: ["CMD", "test", "-f", "/tmp/ok"], interval: 500ms, timeout: 2s, retries: 1 }
    deploy: { replicas: 5 }
  victim:
${base}    command: ["sleep", "3600"]
    deploy: { replicas: 4 }
  job:
${job(0, 2)}  job-fail:
${job(1, 1)}`
}

/** `running`, `running/healthy`, `exited/137`: what an observer shows for one container. */
function keyOf(state: string, health: string | undefined, exitCode: number | null): string {
  if (state === 'running') return health && health !== 'none' ? `running/${health}` : 'running'
  return state === 'exited' || state === 'dead' ? `exited/${exitCode ?? '?'}` : state
}

interface EngineEvent {
  at: number
  receivedAt: number
  kind: 'health' | 'die' | 'start'
  name: string
  key: string
}

/** The engine's own events of the project: the ground truth of when transitions happened. */
function followEngine(project: string, events: EngineEvent[]): () => void {
  const filters = encodeURIComponent(
    JSON.stringify({ type: ['container'], label: [`com.docker.compose.project=${project}`] })
  )
  const req = request({ socketPath: DOCKER_SOCKET, path: `/events?filters=${filters}` }, (res) => {
    let buf = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      const receivedAt = now()
      buf += chunk
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const e = JSON.parse(buf.slice(0, nl)) as {
          Action: string
          timeNano: number
          Actor: { Attributes: Record<string, string> }
        }
        buf = buf.slice(nl + 1)
        const name = e.Actor.Attributes.name ?? ''
        const base = { at: e.timeNano / 1e6, receivedAt, name }
        if (e.Action.startsWith('health_status: ')) {
          events.push({ ...base, kind: 'health', key: `running/${e.Action.slice(15)}` })
        } else if (e.Action === 'die') {
          events.push({ ...base, kind: 'die', key: `exited/${e.Actor.Attributes.exitCode ?? '?'}` })
        } else if (e.Action === 'start' && !name.includes('-flip-')) {
          events.push({ ...base, kind: 'start', key: 'running' })
        }
      }
    })
  })
  req.end()
  return () => req.destroy()
}

/** Milliseconds one GET /containers/{name}/json takes on the engine's socket. */
function timedInspect(name: string): Promise<number> {
  const t = performance.now()
  return new Promise((resolve) => {
    request({ socketPath: DOCKER_SOCKET, path: `/containers/${name}/json` }, (res) => {
      res.resume()
      res.on('end', () => {
        resolve(performance.now() - t)
      })
    })
      .on('error', () => {
        resolve(Number.NaN)
      })
      .end()
  })
}

/** Per container name, every change of what an observer showed, in time order. */
class Timeline {
  private readonly last = new Map<string, string>()
  readonly changes = new Map<string, { at: number; key: string }[]>()
  observe(at: number, doc: HealthDocument): void {
    for (const s of doc.services) {
      for (const i of s.instances) {
        if (!i.docker) continue
        const key = keyOf(i.docker.state, i.docker.health, i.docker.exitCode)
        if (this.last.get(i.docker.name) === key) continue
        this.last.set(i.docker.name, key)
        const list = this.changes.get(i.docker.name) ?? []
        this.changes.set(i.docker.name, [...list, { at, key }])
      }
    }
  }
  /** Latency of each event: first shown in its state at or after it happened (1 ms slack). */
  latencies(events: readonly EngineEvent[]): { d: Distribution; missed: number } {
    const l = events.map(
      (e) => (this.changes.get(e.name) ?? []).find((c) => c.at >= e.at - 1 && c.key === e.key)?.at
    )
    const seen = l.flatMap((at, i) => (at === undefined ? [] : [at - (events[i]?.at ?? 0)]))
    return { d: distribution(seen), missed: l.length - seen.length }
  }
}

/** Each container's own loop: flip its healthcheck, kill and start it, or start the job again. */
async function drive(project: string, until: number): Promise<void> {
  const out = await docker([
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--format',
    '{{.ID}} {{.Label "com.docker.compose.service"}}',
  ])
  const containers = out.split('\n').map((l) => l.split(' '))
  await Promise.all(
    containers.map(async ([id = '', service = ''], idx) => {
      await sleep((idx * HOLD_MS) / containers.length)
      for (let phase = 0; now() < until; phase++) {
        const args =
          service === 'flip'
            ? ['exec', id, 'sh', '-c', phase % 2 === 0 ? 'rm -f /tmp/ok' : 'touch /tmp/ok']
            : service === 'victim'
              ? [phase % 2 === 0 ? 'kill' : 'start', id]
              : ['start', id]
        await docker(args).catch(() => undefined)
        await sleep(service.startsWith('job') ? 2 * HOLD_MS + 500 : HOLD_MS)
      }
    })
  )
}

export async function dockerBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const available = await dockerAvailable()
  if (!available.ok)
    return { id: 'docker', rows: [], tables: '', skipped: available.reason, seconds: 0 }
  const project = uniqueProject('bench')
  const dir = join(BENCH_OUT, 'compose')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${project}.yml`)
  writeFileSync(file, composeFile())
  const proxy = await RecordingProxy.start(DOCKER_SOCKET)
  const events: EngineEvent[] = []
  const stopEngine = followEngine(project, events)
  try {
    ctx.log(`docker: compose up ${project}`)
    await docker(['compose', '-p', project, '-f', file, 'up', '-d'], { timeoutMs: 180_000 })
    const healthy = [
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      'health=healthy',
    ]
    for (let i = 0; i < 60 && (await docker(healthy)).split('\n').filter(Boolean).length < 5; i++)
      await sleep(500)
    await sleep(HOLD_MS) // the jobs' first run ends
    const bridge = await startBridge('bridge-docker', {
      DOCKER: 'on',
      COMPOSE_PROJECT_NAME: project,
      DOCKER_HOST: `unix://${proxy.socketPath}`,
    })
    const sse = new Timeline()
    const poll = new Timeline()
    const parser = new SseParser()
    let doc: HealthDocument | null = null
    // Deltas, applied the way the client library applies them.
    const stream = request(`${bridge.url}/health/stream`, (res) => {
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        const at = now()
        for (const e of parser.push(text)) {
          if (e.event === 'health') doc = JSON.parse(e.data) as HealthDocument
          else if (e.event === 'delta' && doc)
            doc = applyDelta(doc, JSON.parse(e.data) as HealthDelta)
          if (doc) sse.observe(at, doc)
        }
      })
    })
    stream.end()
    const polling = { on: true }
    let polls = 0
    const poller = (async () => {
      let etag = ''
      while (polling.on) {
        const res = await fetch(`${bridge.url}/health`, { headers: { 'if-none-match': etag } })
        const body = await res.text()
        polls++
        if (res.status !== 304) {
          etag = res.headers.get('etag') ?? ''
          poll.observe(now(), JSON.parse(body) as HealthDocument)
        }
        await sleep(2)
      }
    })()
    const activeMs = ctx.quick ? 25_000 : 60_000
    ctx.log(`docker: driving transitions for ${activeMs / 1000} s`)
    proxy.requests.length = 0
    const from = now()
    const inspectMs: number[] = []
    const sampler = setInterval(() => {
      void timedInspect(`${project}-victim-1`).then((ms) => inspectMs.push(ms))
    }, 250)
    await drive(project, from + activeMs)
    clearInterval(sampler)
    const to = now()
    await sleep(1500)
    polling.on = false
    await poller
    stream.destroy()
    await bridge.stop()
    const moved = events.filter((e) => e.at >= from && e.at <= to)
    const inspects = proxy.requests.filter((r) => /\/containers\/[^/]+\/json$/.test(r.path)).length
    const rows: BenchReport['rows'] = []
    const table: string[][] = []
    for (const [label, tl] of [
      ['an SSE client', sse],
      ['a poller of GET /health (2 ms pause)', poll],
    ] as const) {
      const all = tl.latencies(moved)
      rows.push({
        figure: `Docker event -> visible at ${label}, ${moved.length} transitions (p50 / p99)`,
        value: `${fmt.ms(all.d.p50)} / ${fmt.ms(all.d.p99)}`,
        target: `p99 < ${TARGET_P99_MS} ms`,
        verdict: verdictOf(all.d.p99 < TARGET_P99_MS && all.missed === 0),
      })
      for (const kind of ['health', 'die', 'start'] as const) {
        const k = tl.latencies(moved.filter((e) => e.kind === kind))
        table.push([
          label,
          kind,
          fmt.int(k.d.n),
          `${fmt.ms(k.d.p50)} / ${fmt.ms(k.d.p99)} / ${fmt.ms(k.d.max)}`,
          String(k.missed),
        ])
      }
    }
    const delivery = distribution(moved.map((e) => e.receivedAt - e.at))
    const inspect = distribution(inspectMs.filter(Number.isFinite))
    table.push(
      [
        "(floor) engine -> this runner's /events",
        'all',
        fmt.int(delivery.n),
        `${fmt.ms(delivery.p50)} / ${fmt.ms(delivery.p99)} / ${fmt.ms(delivery.max)}`,
        '',
      ],
      [
        '(floor) one GET /containers/{id}/json on the socket, every 250 ms meanwhile',
        '',
        fmt.int(inspect.n),
        `${fmt.ms(inspect.p50)} / ${fmt.ms(inspect.p99)} / ${fmt.ms(inspect.max)}`,
        '',
      ]
    )
    rows.push({
      figure: 'inspects by the bridge per transition',
      value: fmt.num(inspects / Math.max(1, moved.length), 2),
      target: '<= 1',
      verdict: verdictOf(inspects <= moved.length),
    })
    return {
      id: 'docker',
      rows,
      tables: `${mdTable(['observer', 'transition', 'count', 'p50 / p99 / max', 'never shown'], table)}\n\n${fmt.int(polls)} polls.`,
      seconds: (performance.now() - t0) / 1000,
    }
  } finally {
    stopEngine()
    await proxy.close()
    await removeProject(project)
  }
}
