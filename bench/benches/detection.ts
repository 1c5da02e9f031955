/**
 * 3 + 5. Detection latency on a real engine and cost on the engine.
 *
 * A compose project of our own: containers whose healthcheck flips, containers that are killed
 * and started again, and jobs that run and exit (0 or 1). Each container changes state every
 * HOLD_MS (>= the baselines' 5 s period, so every observer can see every state), staggered, so
 * 100+ transitions happen in about a minute. The engine's own event stream (timeNano) says when
 * each transition happened; four observers say when it became visible:
 * - the bridge, polled tightly (GET /health with If-None-Match, a 2 ms pause between polls);
 * - the bridge's event stream (GET /health/stream), stamped on receipt;
 * - `docker compose ps -a --format json` every 5 s (what a user has without the bridge);
 * - bench/servers/poll-bridge.ts, which lists and inspects the project every 5 s (autoheal-style),
 *   polled every 10 ms.
 * The bridge and the poller each talk to the engine through a recording proxy
 * (test/helpers/recording-proxy.ts), which counts their requests: per event while things
 * happen, per minute at idle.
 */
import { setTimeout as sleep } from 'node:timers/promises'

import { RecordingProxy, type RecordedRequest } from '../../test/helpers/recording-proxy.js'
import { SUBSCRIBED_ACTIONS } from '../../src/sources/docker/events.js'
import { startBridgeProcess } from '../lib/bridge.js'
import {
  DOCKER_SOCKET,
  Project,
  TEST_IMAGE,
  docker,
  dockerUnavailable,
  projectName,
  recordEvents,
  timedInspect,
  type EngineEvent,
} from '../lib/docker.js'
import { SERVERS_DIR } from '../lib/paths.js'
import { freePort, spawnServer, type ChildServer } from '../lib/proc.js'
import {
  fmt,
  mdTable,
  verdictOf,
  type BenchContext,
  type BenchReport,
  type Row,
} from '../lib/report.js'
import { recordSse } from '../lib/sse.js'
import { distribution, type Distribution } from '../lib/stats.js'

const HOLD_MS = 6000
const POLL_PERIOD_MS = 5000
const TARGET_P99_MS = 50
const TARGET_IDLE_PER_MIN = 2
const TARGET_INSPECTS_PER_EVENT = 1

const FLIPS = 5
const VICTIMS = 4
const JOBS_OK = 2
const JOBS_FAIL = 1

function composeFile(): string {
  const base = `    image: ${TEST_IMAGE}\n    network_mode: none\n`
  return `services:
  flip:
${base}    command: ["sh", "-c", "touch /tmp/ok; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 500ms
      timeout: 2s
      retries: 1
    deploy: { replicas: ${FLIPS} }
  victim:
${base}    command: ["sleep", "3600"]
    deploy: { replicas: ${VICTIMS} }
  job:
${base}    command: ["sh", "-c", "sleep ${HOLD_MS / 1000}; exit 0"]
    labels: { health-bridge.role: job }
    restart: "no"
    deploy: { replicas: ${JOBS_OK} }
  job-fail:
${base}    command: ["sh", "-c", "sleep ${HOLD_MS / 1000}; exit 1"]
    labels: { health-bridge.role: job }
    restart: "no"
    deploy: { replicas: ${JOBS_FAIL} }
`
}

/** What an observer shows for one container: `running`, `running/healthy`, `exited/137`... */
function keyOf(
  state: string,
  health: string | null | undefined,
  exitCode: number | null | undefined
): string {
  if (state === 'running')
    return health && health !== 'none' && health !== '' ? `running/${health}` : 'running'
  if (state === 'exited' || state === 'dead') return `exited/${exitCode ?? '?'}`
  return state
}

/** The state an engine event leads to, or null for events that are not a transition. */
function expectedKey(e: EngineEvent): string | null {
  if (e.action === 'die') return `exited/${e.exitCode ?? '?'}`
  if (e.action === 'start') return e.name.includes('-flip-') ? null : 'running'
  if (e.action.startsWith('health_status: '))
    return `running/${e.action.slice('health_status: '.length)}`
  return null
}

/** Per container, every change of what an observer showed, in time order. */
class Timeline {
  private readonly last = new Map<string, string>()
  readonly changes = new Map<string, { at: number; key: string }[]>()
  observe(at: number, snapshot: ReadonlyMap<string, string>): void {
    for (const [name, key] of snapshot) {
      if (this.last.get(name) === key) continue
      this.last.set(name, key)
      const list = this.changes.get(name) ?? []
      list.push({ at, key })
      this.changes.set(name, list)
    }
  }
  /** When the container was first shown as `key` at or after `since` (5 ms of clock slack). */
  firstShown(name: string, key: string, since: number): number | null {
    for (const c of this.changes.get(name) ?? [])
      if (c.at >= since - 5 && c.key === key) return c.at
    return null
  }
}

interface BridgeDoc {
  services: {
    instances: {
      docker: { name: string; state: string; health: string; exitCode: number | null } | null
    }[]
  }[]
}

function bridgeSnapshot(doc: BridgeDoc): Map<string, string> {
  const m = new Map<string, string>()
  for (const s of doc.services)
    for (const i of s.instances)
      if (i.docker) m.set(i.docker.name, keyOf(i.docker.state, i.docker.health, i.docker.exitCode))
  return m
}

const now = () => performance.timeOrigin + performance.now()

/** Polls a URL until `stop` is set; `onBody` gets every 200 body. */
interface PollStats {
  polls: number
  changed: number
  errors: number
  lastError: string | null
}

async function pollLoop(
  url: string,
  pauseMs: number,
  stop: { done: boolean },
  onBody: (at: number, body: string) => void,
  etag = false
): Promise<PollStats> {
  let tag: string | null = null
  const stats: PollStats = { polls: 0, changed: 0, errors: 0, lastError: null }
  while (!stop.done) {
    try {
      const res: Response = await fetch(url, {
        headers: etag && tag !== null ? { 'if-none-match': tag } : {},
      })
      const body = await res.text()
      stats.polls++
      if (res.status !== 304) {
        stats.changed++
        tag = res.headers.get('etag')
        onBody(now(), body)
      }
    } catch (err) {
      stats.errors++
      stats.lastError = String(err)
    }
    await sleep(pauseMs)
  }
  return stats
}

interface ComposePsLine {
  Name: string
  State: string
  Health: string
  ExitCode: number
}

function parseComposePs(out: string): ComposePsLine[] {
  const t = out.trim()
  if (t === '') return []
  if (t.startsWith('[')) return JSON.parse(t) as ComposePsLine[]
  return t.split('\n').map((l) => JSON.parse(l) as ComposePsLine)
}

function requestKinds(reqs: readonly RecordedRequest[]): {
  inspect: number
  list: number
  events: number
  other: number
} {
  let inspect = 0
  let list = 0
  let events = 0
  let other = 0
  for (const r of reqs) {
    const p = r.path.replace(/^\/v\d+\.\d+/, '')
    if (/^\/containers\/[^/]+\/json$/.test(p)) inspect++
    else if (p === '/containers/json') list++
    else if (p === '/events') events++
    else other++
  }
  return { inspect, list, events, other }
}

/** Runs each container's own loop of actions until `until`. */
async function drive(project: Project, until: number, log: (m: string) => void): Promise<number> {
  const containers = await project.containers()
  let actions = 0
  const loops = containers.map(async (c, idx) => {
    await sleep((idx * HOLD_MS) / containers.length)
    let phase = 0
    while (now() < until) {
      try {
        if (c.service === 'flip')
          await docker([
            'exec',
            c.id,
            'sh',
            '-c',
            phase % 2 === 0 ? 'rm -f /tmp/ok' : 'touch /tmp/ok',
          ])
        else if (c.service === 'victim')
          await docker(phase % 2 === 0 ? ['kill', c.id] : ['start', c.id])
        else await docker(['start', c.id]) // a job: runs HOLD_MS, exits by itself
        actions++
      } catch (err) {
        log(`detection: action on ${c.name} failed: ${(err as Error).message}`)
      }
      phase++
      // A job's run and its exit each hold HOLD_MS: start it again after both.
      await sleep(c.service.startsWith('job') ? 2 * HOLD_MS + 500 : HOLD_MS)
    }
  })
  await Promise.all(loops)
  return actions
}

export async function detectionBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const title = 'Detection latency and cost on the engine'
  const why = await dockerUnavailable()
  if (why !== null)
    return { id: 'detection', title, rows: [], details: '', skipped: why, seconds: 0 }

  const project = new Project(projectName('detect'), composeFile())
  const proxyBridge = await RecordingProxy.start(DOCKER_SOCKET)
  const proxyPoller = await RecordingProxy.start(DOCKER_SOCKET)
  const children: ChildServer[] = []
  const engine = recordEvents(project.name)
  try {
    ctx.log(`detection: starting ${project.name}`)
    await project.compose(['up', '-d'])
    for (let i = 0; i < 120; i++) {
      const healthy = await docker([
        'ps',
        '-q',
        '--filter',
        `label=com.docker.compose.project=${project.name}`,
        '--filter',
        'health=healthy',
      ])
      if (healthy.split('\n').filter(Boolean).length >= FLIPS) break
      await sleep(500)
    }
    // The jobs' first run ends HOLD_MS after `up`: wait for it, so the idle window is idle.
    for (let i = 0; i < 60; i++) {
      const running = await docker([
        'ps',
        '-q',
        '--filter',
        `label=com.docker.compose.project=${project.name}`,
        '--filter',
        'label=health-bridge.role=job',
      ])
      if (running === '') break
      await sleep(500)
    }
    await engine.ready
    const bridge = await startBridgeProcess({
      name: 'bridge-detection',
      env: {
        DOCKER: 'on',
        COMPOSE_PROJECT_NAME: project.name,
        DOCKER_HOST: `unix://${proxyBridge.socketPath}`,
      },
      waitReady: true,
      readyTimeoutMs: 30_000,
    })
    children.push(bridge)
    const pollerPort = await freePort()
    const poller = await spawnServer({
      name: 'poll-bridge',
      nodeArgs: ['--import', 'tsx', `${SERVERS_DIR}/poll-bridge.ts`],
      env: {
        PORT: String(pollerPort),
        PROJECT: project.name,
        DOCKER_SOCKET: proxyPoller.socketPath,
        POLL_MS: String(POLL_PERIOD_MS),
      },
      port: pollerPort,
      readyPath: '/health',
    })
    children.push(poller)

    // Observers.
    const stop = { done: false }
    const tl = {
      poll: new Timeline(),
      sse: new Timeline(),
      composePs: new Timeline(),
      poller: new Timeline(),
    }
    const sse = recordSse(`${bridge.url}/health/stream`)
    await sse.connected
    const loops = [
      pollLoop(
        `${bridge.url}/health`,
        2,
        stop,
        (at, body) => {
          tl.poll.observe(at, bridgeSnapshot(JSON.parse(body) as BridgeDoc))
        },
        true
      ),
      pollLoop(`${poller.url}/health`, 10, stop, (at, body) => {
        const doc = JSON.parse(body) as {
          containers: Record<string, { state: string; health: string; exitCode: number }>
        }
        tl.poller.observe(
          at,
          new Map(
            Object.entries(doc.containers).map(([n, c]) => [
              n,
              keyOf(c.state, c.health, c.exitCode),
            ])
          )
        )
      }),
      (async () => {
        let polls = 0
        while (!stop.done) {
          const started = now()
          try {
            const out = await project.compose(['ps', '-a', '--format', 'json'], 30_000)
            tl.composePs.observe(
              now(),
              new Map(
                parseComposePs(out).map((c) => [c.Name, keyOf(c.State, c.Health, c.ExitCode)])
              )
            )
            polls++
          } catch (err) {
            ctx.log(`detection: compose ps failed: ${(err as Error).message}`)
          }
          await sleep(Math.max(0, POLL_PERIOD_MS - (now() - started)))
        }
        return { polls, changed: polls, errors: 0, lastError: null }
      })(),
    ]
    // Idle first: nothing happens in the project; count what each side asks the engine.
    const idleMs = ctx.quick ? 20_000 : 60_000
    ctx.log(`detection: idle for ${idleMs / 1000} s (counting engine requests)`)
    proxyBridge.requests.length = 0
    proxyPoller.requests.length = 0
    await sleep(idleMs)
    const idleBridge = requestKinds(proxyBridge.requests)
    const idlePoller = requestKinds(proxyPoller.requests)
    const perMin = (k: { inspect: number; list: number; events: number; other: number }) =>
      ((k.inspect + k.list + k.events + k.other) * 60_000) / idleMs

    // Transitions.
    const activeMs = ctx.quick ? 25_000 : 60_000
    ctx.log(`detection: driving transitions for ${activeMs / 1000} s`)
    proxyBridge.requests.length = 0
    proxyPoller.requests.length = 0
    const activeFrom = now()
    // The engine's own answer time for one inspect while the transitions happen: with the event
    // delivery, the floor of what any event-driven watcher can do.
    const inspectMs: number[] = []
    const sampled = (await project.containers()).find((c) => c.service === 'victim')
    const sampler = setInterval(() => {
      if (sampled)
        void timedInspect(sampled.id).then((ms) => {
          if (Number.isFinite(ms)) inspectMs.push(ms)
        })
    }, 250)
    const actions = await drive(project, activeFrom + activeMs, ctx.log)
    clearInterval(sampler)
    const activeTo = now()
    // Let the 5 s pollers catch up with the last transitions before the books close.
    await sleep(POLL_PERIOD_MS + 1500)
    stop.done = true
    const [pollStats, pollerStats, composeStats] = await Promise.all(loops)
    for (const e of sse.stop()) {
      if (e.event === 'health')
        tl.sse.observe(e.at, bridgeSnapshot(JSON.parse(e.data) as BridgeDoc))
    }
    const activeBridge = requestKinds(proxyBridge.requests)
    const activePoller = requestKinds(proxyPoller.requests)
    const activeSpanMs = now() - activeFrom

    const inWindow = engine.events.filter((e) => e.at >= activeFrom && e.at <= activeTo)
    const transitions = inWindow.filter((e) => expectedKey(e) !== null)
    const subscribed = inWindow.filter((e) =>
      (SUBSCRIBED_ACTIONS as readonly string[]).includes(e.action.split(':')[0] ?? '')
    )
    const latencies = (t: Timeline) => {
      const l: number[] = []
      let missed = 0
      for (const e of transitions) {
        const at = t.firstShown(e.name, expectedKey(e) ?? '', e.at)
        if (at === null) missed++
        else l.push(at - e.at)
      }
      return { d: distribution(l), missed }
    }
    const obs = {
      poll: latencies(tl.poll),
      sse: latencies(tl.sse),
      composePs: latencies(tl.composePs),
      poller: latencies(tl.poller),
    }
    const kinds = { die: 0, start: 0, health: 0 }
    for (const e of transitions) {
      if (e.action === 'die') kinds.die++
      else if (e.action === 'start') kinds.start++
      else kinds.health++
    }

    const rows: Row[] = []
    for (const [label, o] of [
      ['GET /health polled', obs.poll],
      ['GET /health/stream (SSE)', obs.sse],
    ] as const) {
      rows.push({
        figure: `detection latency via ${label}, ${transitions.length} transitions (p50 / p99)`,
        value: `${fmt.ms(o.d.p50)} / ${fmt.ms(o.d.p99)}`,
        baseline: `${fmt.ms(obs.poller.d.p50)} / ${fmt.ms(obs.poller.d.p99)} (engine polled every 5 s)`,
        ratio: fmt.ratio(obs.poller.d.p50 / o.d.p50),
        target: `p99 < ${TARGET_P99_MS} ms`,
        verdict:
          o.missed > 0 || transitions.length < (ctx.quick ? 20 : 100)
            ? 'miss'
            : verdictOf(o.d.p99 < TARGET_P99_MS),
      })
    }
    rows.push({
      figure: 'detection latency, `docker compose ps` every 5 s (p50 / p99)',
      value: `${fmt.ms(obs.composePs.d.p50)} / ${fmt.ms(obs.composePs.d.p99)}`,
      ratio: `bridge ${fmt.ratio(obs.composePs.d.p50 / Math.max(obs.poll.d.p50, obs.sse.d.p50))} faster (p50)`,
      verdict: 'info',
    })
    const idlePerMin = perMin(idleBridge)
    rows.push({
      figure: 'engine requests per minute at idle',
      value: `${fmt.num(idlePerMin)}/min`,
      baseline: `${fmt.num(perMin(idlePoller))}/min (engine polled every 5 s)`,
      target: `<= ${TARGET_IDLE_PER_MIN}/min`,
      verdict: verdictOf(idlePerMin <= TARGET_IDLE_PER_MIN),
    })
    const inspectsPerEvent = activeBridge.inspect / Math.max(1, subscribed.length)
    rows.push({
      figure: `inspects per container event (${subscribed.length} events, ${transitions.length} transitions)`,
      value: `${fmt.num(inspectsPerEvent, 2)} (${fmt.num(activeBridge.inspect / Math.max(1, transitions.length), 2)} per transition)`,
      baseline: `${fmt.num((activePoller.inspect + activePoller.list) / Math.max(1, transitions.length), 1)} requests per transition (poller)`,
      target: `<= ${TARGET_INSPECTS_PER_EVENT}`,
      verdict: verdictOf(inspectsPerEvent <= TARGET_INSPECTS_PER_EVENT),
    })
    const delivery = distribution(transitions.map((e) => e.receivedAt - e.at))
    const fmtD = (d: Distribution) =>
      `${fmt.ms(d.p50)} / ${fmt.ms(d.p95)} / ${fmt.ms(d.p99)} / ${fmt.ms(d.max)}`
    const details = [
      `Project \`${project.name}\`: ${FLIPS} containers whose healthcheck (\`test -f /tmp/ok\`, every 500 ms, 1 retry) is flipped with \`docker exec\`, ${VICTIMS} that are \`docker kill\`ed and \`docker start\`ed, ${JOBS_OK} jobs that exit 0 and ${JOBS_FAIL} that exits 1 after ${HOLD_MS / 1000} s (started again with \`docker start\`). Every container holds each state ${HOLD_MS / 1000} s, staggered; ${actions} actions over ${activeMs / 1000} s gave ${transitions.length} transitions (${kinds.health} health flips, ${kinds.die} exits or kills, ${kinds.start} starts). Latency = the first time an observer showed the container in the state the event leads to, minus the event's own \`timeNano\`. The bridge runs with DOCKER=on behind a recording proxy; nothing else is tuned.`,
      '',
      mdTable(
        ['observer', 'p50 / p95 / p99 / max', 'transitions never shown'],
        [
          [
            'bridge, GET /health polled (If-None-Match, 2 ms pause)',
            fmtD(obs.poll.d),
            String(obs.poll.missed),
          ],
          ['bridge, GET /health/stream (SSE)', fmtD(obs.sse.d), String(obs.sse.missed)],
          [
            'poll-bridge: list + inspect every 5 s, polled every 10 ms',
            fmtD(obs.poller.d),
            String(obs.poller.missed),
          ],
          [
            '`docker compose ps -a --format json` every 5 s',
            fmtD(obs.composePs.d),
            String(obs.composePs.missed),
          ],
          [
            "(floor) the engine delivering the event to the runner's own /events stream",
            fmtD(delivery),
            '',
          ],
          [
            "(floor) one inspect on the engine's socket, sampled every 250 ms meanwhile",
            fmtD(distribution(inspectMs)),
            '',
          ],
        ]
      ),
      '',
      `Engine requests (counted by the proxies). Idle, ${idleMs / 1000} s with nothing happening: bridge ${JSON.stringify(idleBridge)}, poller ${JSON.stringify(idlePoller)}. While driving transitions (${(activeSpanMs / 1000).toFixed(0)} s): bridge ${JSON.stringify(activeBridge)} for ${subscribed.length} events of the kinds it subscribes to; poller ${JSON.stringify(activePoller)}. The bridge's one \`/events\` request is a stream held open for its whole life.`,
      '',
      `Polls: bridge ${JSON.stringify(pollStats)}; poll-bridge ${JSON.stringify(pollerStats)}; compose ps ${JSON.stringify(composeStats)}.`,
    ].join('\n')
    return { id: 'detection', title, rows, details, seconds: (performance.now() - t0) / 1000 }
  } finally {
    engine.stop()
    for (const c of children) await c.stop()
    await proxyBridge.close()
    await proxyPoller.close()
    await project.down()
  }
}
