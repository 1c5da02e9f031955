/**
 * CLP's multi-host deployment with real Docker engines: three "hosts", each a network namespace
 * with an address of its own on a LAN (test/helpers/netns.ts) and a private dockerd running in
 * it. The same compose project, `clp-package-<uuid>`, runs on each, split the way CLP's
 * multi-host guide splits it: the singletons on `main`, the workers on `worker-1` and
 * `worker-2`, every service started with `up <service> --no-deps --wait`.
 *
 * The bridges are started as users would start them: on main the hub and on worker-1 a worker
 * bridge, each from compose/multihost/ included in the CLP-shaped compose file and run in that
 * host's engine with the socket mounted; on worker-2 `node dist/main.js` beside the engine, so
 * that engine can be stopped under a bridge that keeps running. Services on the workers send
 * heartbeats to their own host's bridge; the test sends some to a worker's bridge and to the hub.
 *
 * Then one host at a time goes wrong and comes back: worker-1's bridge is killed, worker-2's
 * engine is stopped, worker-1's cable is pulled (its port on the LAN down: a silent peer, not a
 * refused one). A second hub follows a peer with the wrong token and two junk peers. Everything
 * is asserted over HTTP, from the LAN, the way the WebUI or an operator would see it.
 */
import { randomUUID } from 'node:crypto'
import { statSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  healthDocumentSchema,
  type HealthDocument,
  type InstanceView,
  type PeerSourceView,
  type ServiceView,
} from '../../src/wire/health-document.js'
import { ensureBuilt, killBridgeProcesses, startBridgeProcess } from '../helpers/bridge-process.js'
import {
  buildImage,
  cleanUp,
  ensureNodeBaseImage,
  NODE_BASE_IMAGE,
  tempDir,
} from '../helpers/compose.js'
import {
  docker,
  dockerAvailable,
  REPO_ROOT,
  REQUIRE_DOCKER,
  TEST_IMAGE,
} from '../helpers/docker.js'
import {
  privateEngineUnavailable,
  startPrivateEngine,
  type PrivateEngine,
} from '../helpers/docker-private-engine.js'
import { createLan, netnsUnavailable, type Lan, type NetHost } from '../helpers/netns.js'
import { waitFor } from '../helpers/wait-for.js'

const engine = await dockerAvailable()
const reason = engine.ok
  ? ((await privateEngineUnavailable()) ?? (await netnsUnavailable()))
  : engine.reason
if (engine.ok && reason !== null) {
  if (REQUIRE_DOCKER) throw new Error(`REQUIRE_DOCKER=1 but ${reason}`)
  process.stderr.write(`\n[multi-host engine test skipped] ${reason}\n`)
}

const PROJECT = `clp-package-${randomUUID()}`
const BRIDGE_IMAGE = `hbt-multihost-bridge:${PROJECT.slice(-6)}`
/** The shared secret of hub and workers: the workers' READ_TOKEN, the hub's PEER_TOKEN. */
const PEER_TOKEN = `peer-token-${randomUUID()}`
/**
 * Above the 5 s between a quiet peer's keep-alives (with room for a loaded machine): below it,
 * a healthy peer that has nothing to say would be taken for lost.
 */
const PEER_STALE_AFTER_S = 8
const PORT = 8080
const WORKER_SERVICES = ['compression-worker', 'query-worker', 'reducer']
const MAIN_SERVICES = [
  'compression-scheduler',
  'database',
  'db-table-creator',
  'query-scheduler',
  'queue',
  'redis',
  'results-cache',
  'results-cache-indices-creator',
  'webui',
]

/** CLP's docker-compose-all.yaml in miniature: the same services, dependencies and hostnames. */
const CLP_COMPOSE = `
# The package's compose file, identical on every host; each host includes its own bridge file.
include:
  - \${HEALTH_BRIDGE_COMPOSE_FILE}

x-stand-in: &stand-in
  image: ${TEST_IMAGE}
  restart: on-failure:3
  stop_grace_period: 3s
  # PID 1 exits on SIGTERM as an unhandled signal would kill it (143): fast, and non-zero, so
  # CLP's on-failure policy brings it back when the engine starts again.
  command: ['sh', '-c', "trap 'exit 143' TERM; touch /tmp/ok; while :; do sleep 1; done"]

x-server: &server
  <<: *stand-in
  healthcheck:
    test: ['CMD', 'test', '-f', '/tmp/ok']
    interval: 1s
    timeout: 1s
    retries: 1
    start_period: 5s

# A worker without a healthcheck that reports to its own host's bridge, with its hostname as
# the instance (unique on its host): exactly what docs/deployment.md tells CLP's workers to do.
# (\`timeout\`, not wget's -T: that option crashes the static busybox of the test image.)
x-heartbeating: &heartbeating
  <<: *stand-in
  labels:
    health-bridge.heartbeat: 'true'
  command:
    - sh
    - -c
    - |
      trap 'exit 143' TERM
      while :; do
        timeout 5 wget -q -O /dev/null --header 'Content-Type: application/json' \\
          --post-data "{\\"service\\":\\"$$SERVICE\\",\\"instance\\":\\"$$(hostname)\\"}" \\
          "$$HEALTH_BRIDGE_URL/health" || true
        sleep 2
      done

services:
  database: { <<: *server, hostname: database }
  queue: { <<: *server, hostname: queue }
  redis: { <<: *server, hostname: redis }
  results-cache: { <<: *server, hostname: results_cache }
  db-table-creator:
    <<: *stand-in
    command: ['true']
    depends_on: { database: { condition: service_healthy } }
  results-cache-indices-creator:
    <<: *stand-in
    command: ['true']
    depends_on: { results-cache: { condition: service_healthy } }
  compression-scheduler:
    <<: *stand-in
    hostname: compression_scheduler
    depends_on:
      db-table-creator: { condition: service_completed_successfully }
      queue: { condition: service_healthy }
      redis: { condition: service_healthy }
  query-scheduler:
    <<: *server
    hostname: query_scheduler
    depends_on:
      db-table-creator: { condition: service_completed_successfully }
      queue: { condition: service_healthy }
      redis: { condition: service_healthy }
  webui:
    <<: *server
    hostname: webui
    depends_on:
      db-table-creator: { condition: service_completed_successfully }
      results-cache-indices-creator: { condition: service_completed_successfully }
  compression-worker:
    <<: *heartbeating
    hostname: compression_worker
    environment: { SERVICE: compression-worker, HEALTH_BRIDGE_URL: '\${CLP_HEALTH_BRIDGE_URL:-http://health-bridge:8080}' }
  query-worker:
    <<: *heartbeating
    hostname: query_worker
    environment: { SERVICE: query-worker, HEALTH_BRIDGE_URL: '\${CLP_HEALTH_BRIDGE_URL:-http://health-bridge:8080}' }
  reducer:
    <<: *stand-in
    hostname: reducer
    depends_on:
      query-scheduler: { condition: service_healthy }
      results-cache-indices-creator: { condition: service_completed_successfully }
`

interface Host {
  net: NetHost
  engine: PrivateEngine
  /** The variables this host's `docker compose` runs with (the package's and its own). */
  env: Record<string, string>
}

let lan: Lan
let composeFile: string
const hosts: Partial<Record<'main' | 'worker-1' | 'worker-2', Host>> = {}

function host(name: 'main' | 'worker-1' | 'worker-2'): Host {
  const h = hosts[name]
  if (!h) throw new Error(`host ${name} was not set up`)
  return h
}

function compose(h: Host, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  return docker(['compose', '--project-name', PROJECT, '-f', composeFile, ...args], {
    socket: h.engine.socket,
    env: h.env,
    timeoutMs,
  })
}

const url = (h: Host) => `http://${h.net.address}:${PORT}`

interface Answer {
  status: number
  text: string
}

async function get(base: string, path: string, token?: string): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(4000),
  })
  return { status: res.status, text: await res.text() }
}

/** A document, validated by the schema the bridge serves it with. */
async function doc(base: string, token?: string): Promise<HealthDocument & { httpStatus: number }> {
  const a = await get(base, '/health', token)
  return { ...healthDocumentSchema.parse(JSON.parse(a.text)), httpStatus: a.status }
}

const hub = () => doc(url(host('main')))

async function beat(base: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${base}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(4000),
  })
  expect(res.status).toBe(202)
}

async function deregister(base: string, service: string, instance: string): Promise<void> {
  const res = await fetch(
    `${base}/health?service=${service}&instance=${encodeURIComponent(instance)}`,
    { method: 'DELETE', signal: AbortSignal.timeout(4000) }
  )
  expect(res.status).toBe(204)
}

const service = (d: HealthDocument, name: string): ServiceView | undefined =>
  d.services.find((s) => s.name === name)

const peer = (d: HealthDocument, name: string): PeerSourceView | undefined =>
  d.bridge.sources.peers.find((p) => p.name === name)

const instancesOf = (d: HealthDocument, hostName: string): InstanceView[] =>
  d.services.flatMap((s) => s.instances).filter((i) => i.host === hostName)

/** One line per service and instance, for failure messages. */
function describeDoc(d: HealthDocument | null): string {
  if (!d) return '(no document)'
  const peers = d.bridge.sources.peers.map((p) => `${p.name}=${p.state}(${p.detail ?? ''})`)
  const services = d.services.map(
    (s) =>
      `${s.name}=${s.status} [${s.instances.map((i) => `${i.host}:${i.status} (${i.message})`).join(', ')}]`
  )
  return `${d.status}; peers ${peers.join(', ')}; ${services.join('; ')}`
}

/** Waits until the hub's document satisfies `check`; a timeout says what the hub showed last. */
async function untilHub(
  what: string,
  check: (d: HealthDocument) => boolean,
  timeoutMs = 30_000
): Promise<HealthDocument & { httpStatus: number }> {
  let last: (HealthDocument & { httpStatus: number }) | null = null
  try {
    return await waitFor(
      async () => {
        last = await hub()
        return check(last) ? last : null
      },
      { what, timeoutMs, intervalMs: 200 }
    )
  } catch (err) {
    throw new Error(`${(err as Error).message}; the hub showed: ${describeDoc(last)}`, {
      cause: err,
    })
  }
}

const allHealthy = (d: HealthDocument) =>
  d.status === 'healthy' &&
  d.bridge.sources.peers.every((p) => p.state === 'following') &&
  d.services.length === MAIN_SERVICES.length + WORKER_SERVICES.length &&
  d.services.every((s) => s.status === 'healthy')

const containerName = (svc: string) => `${PROJECT}-${svc}-1`
const LOST = /^host worker-1 unreachable since \d\d:\d\d:\d\dZ$/

/** What the bridge container of a host wrote (`docker compose logs`, as an operator reads it). */
async function bridgeLogs(h: Host): Promise<string> {
  return compose(h, ['logs', '--no-color', 'health-bridge'])
}

describe.skipIf(!engine.ok || reason !== null)('CLP multi-host on three Docker engines', () => {
  beforeAll(async () => {
    const driver = await docker(['info', '--format', '{{.Driver}}'])
    lan = await createLan()
    const dir = tempDir('hbt-multihost')
    composeFile = join(dir, 'docker-compose.yaml')
    writeFileSync(composeFile, CLP_COMPOSE)

    const plan = [
      { name: 'main', octet: 10, file: 'hub.yaml' },
      { name: 'worker-1', octet: 11, file: 'worker.yaml' },
      { name: 'worker-2', octet: 12, file: 'worker.yaml' },
    ] as const
    const nets = await Promise.all(plan.map((p) => lan.addHost(p.name, p.octet)))
    const addressOf = (name: string) => nets.find((n) => n.name === name)?.address ?? ''
    const engines = Promise.all(
      plan.map(async (p, i) => {
        const net = nets[i]
        if (!net) throw new Error('no host')
        const eng = await startPrivateEngine(driver, { netns: net.netns })
        hosts[p.name] = {
          net,
          engine: eng,
          env: {
            // What CLP's package would hold in its .env (the same on every host) ...
            HEALTH_BRIDGE_IMAGE: BRIDGE_IMAGE,
            HEALTH_BRIDGE_NODE_IMAGE: NODE_BASE_IMAGE,
            HEALTH_BRIDGE_PEER_TOKEN: PEER_TOKEN,
            HEALTH_BRIDGE_DOCKER_STALE_AFTER: '2s',
            HEALTH_BRIDGE_LOG_LEVEL: 'debug',
            // ... and what each host sets for itself.
            HEALTH_BRIDGE_COMPOSE_FILE: `${REPO_ROOT}compose/multihost/${p.file}`,
            HEALTH_BRIDGE_NAME: p.name,
            HEALTH_BRIDGE_BIND: net.address,
            HEALTH_BRIDGE_DOCKER_SOCKET: eng.socket,
            DOCKER_GID: String(statSync(eng.socket).gid),
            ...(p.name === 'main'
              ? {
                  HEALTH_BRIDGE_PEERS: `worker-1=http://${addressOf('worker-1')}:${PORT},worker-2=http://${addressOf('worker-2')}:${PORT}`,
                  HEALTH_BRIDGE_PEER_STALE_AFTER: `${PEER_STALE_AFTER_S}s`,
                }
              : {}),
            // worker-2's bridge runs beside the engine, on the host's own address.
            ...(p.name === 'worker-2'
              ? { CLP_HEALTH_BRIDGE_URL: `http://${net.address}:${PORT}` }
              : {}),
          },
        }
      })
    )
    // The image a user builds and the dist/ `npm start` runs, while the engines start; then
    // the image goes to the two hosts that run the bridge in their engine.
    const built = ensureNodeBaseImage().then(() =>
      buildImage(BRIDGE_IMAGE, REPO_ROOT, { NODE_IMAGE: NODE_BASE_IMAGE })
    )
    await Promise.all([engines, built, ensureBuilt()])
    await Promise.all([host('main'), host('worker-1')].map((h) => h.engine.load(BRIDGE_IMAGE)))

    // CLP's multi-host start: each service on its host, one by one, without its dependencies;
    // the hosts side by side, as their operators would.
    const startMain = async () => {
      const main = host('main')
      await compose(main, ['up', '--detach', '--no-deps', '--wait', 'health-bridge'])
      await compose(main, [
        'up',
        '--detach',
        '--no-deps',
        '--wait',
        'database',
        'queue',
        'redis',
        'results-cache',
      ])
      // One-shot jobs: `--wait` would call their exit a failure, so run them to completion.
      await compose(main, ['up', '--no-deps', 'db-table-creator', 'results-cache-indices-creator'])
      await compose(main, [
        'up',
        '--detach',
        '--no-deps',
        '--wait',
        'compression-scheduler',
        'query-scheduler',
        'webui',
      ])
    }
    const startWorker1 = () =>
      compose(host('worker-1'), [
        'up',
        '--detach',
        '--no-deps',
        '--wait',
        'health-bridge',
        ...WORKER_SERVICES,
      ])
    const startWorker2 = async () => {
      const w2 = host('worker-2')
      await startBridgeProcess({
        url: url(w2),
        enter: w2.net.enter,
        env: {
          BRIDGE_NAME: 'worker-2',
          HOST: w2.net.address,
          PORT: String(PORT),
          DOCKER: 'on',
          DOCKER_HOST: `unix://${w2.engine.socket}`,
          COMPOSE_PROJECT_NAME: PROJECT,
          READ_TOKEN: PEER_TOKEN,
          CONFIG_FILE: `${REPO_ROOT}compose/multihost/clp-services.yaml`,
          DOCKER_STALE_AFTER: '2s',
          LOG_LEVEL: 'debug',
        },
      })
      await compose(w2, ['up', '--detach', '--no-deps', '--wait', ...WORKER_SERVICES])
    }
    await Promise.all([startMain(), startWorker1(), startWorker2()])
    await untilHub('every host healthy at the hub', allHealthy, 60_000)
  }, 420_000)

  afterAll(async () => {
    // Whatever failed half-way: processes, engines, then the LAN, then images and files.
    await killBridgeProcesses()
    for (const h of Object.values(hosts)) await h.engine.destroy().catch(() => undefined)
    await (lan as Lan | undefined)?.destroy()
    await cleanUp()
  }, 120_000)

  it('serves one document for three hosts: services across hosts, ids qualified by host, jobs as jobs', async () => {
    const d = await hub()
    expect(d.httpStatus).toBe(200)
    expect(d.bridge.name).toBe('main')
    expect(d.bridge.sources.peers.map((p) => [p.name, p.url, p.state])).toEqual([
      ['worker-1', url(host('worker-1')), 'following'],
      ['worker-2', url(host('worker-2')), 'following'],
    ])
    expect(d.services.map((s) => s.name)).toEqual([...MAIN_SERVICES, ...WORKER_SERVICES].sort())

    // The same container name on two hosts: two instances, told apart by their host.
    const qw = service(d, 'query-worker')
    expect(qw?.instances.map((i) => [i.id, i.host, i.status, i.docker?.name])).toEqual([
      [
        `${containerName('query-worker')}@worker-1`,
        'worker-1',
        'healthy',
        containerName('query-worker'),
      ],
      [
        `${containerName('query-worker')}@worker-2`,
        'worker-2',
        'healthy',
        containerName('query-worker'),
      ],
    ])
    // Each worker's heartbeats went to its own host's bridge and merged with its container.
    for (const i of qw?.instances ?? []) {
      expect(i.heartbeat?.lastSeenAt).not.toBeNull()
      expect(i.docker?.state).toBe('running')
    }
    // The hub's own host: plain ids, host main.
    expect(service(d, 'database')?.instances.map((i) => [i.id, i.host])).toEqual([
      [containerName('database'), 'main'],
    ])
    // Jobs are jobs although `--no-deps` left compose's depends_on label empty:
    // compose/multihost/clp-services.yaml says so.
    const job = service(d, 'db-table-creator')
    expect([job?.kind, job?.status, job?.message, job?.job]).toEqual([
      'job',
      'healthy',
      'completed successfully',
      { state: 'succeeded', exitCode: 0 },
    ])
    expect(service(d, 'reducer')?.dependsOn).toEqual([
      'query-scheduler',
      'results-cache-indices-creator',
    ])

    // `?service=&instance=` addresses an instance of any host.
    const one = await get(
      url(host('main')),
      `/health?service=query-worker&instance=${containerName('query-worker')}@worker-2&format=text`
    )
    expect(one.status).toBe(200)
    expect(one.text).toMatch(
      new RegExp(`^query-worker/${containerName('query-worker')}@worker-2 healthy: `)
    )

    // A worker's bridge answers its own part, and only with the token.
    expect((await get(url(host('worker-1')), '/health')).status).toBe(401)
    const w1 = await doc(url(host('worker-1')), PEER_TOKEN)
    expect(w1.bridge.name).toBe('worker-1')
    expect(w1.services.map((s) => s.name)).toEqual(WORKER_SERVICES)
    expect(instancesOf(w1, 'worker-1')).toHaveLength(3)
    expect(instancesOf(w1, 'worker-1').map((i) => i.id)).toContain(containerName('reducer'))

    // The token crosses the LAN only as a header: in no answer of the hub and in none of its logs.
    for (const path of ['/health', '/health/ready', '/metrics', '/health/history']) {
      expect((await get(url(host('main')), path)).text).not.toContain(PEER_TOKEN)
    }
    expect(await bridgeLogs(host('main'))).not.toContain(PEER_TOKEN)
  }, 150_000)

  it('takes heartbeats at a worker’s bridge and at the hub, for instances of any host', async () => {
    const w2 = url(host('worker-2'))
    const main = url(host('main'))
    // A process on worker-2 reports to its own bridge, by its hostname.
    await beat(w2, {
      service: 'reducer',
      instance: 'reducer',
      error: 'cannot reach the results cache',
    })
    let d = await untilHub(
      'worker-2’s reducer unhealthy at the hub',
      (x) =>
        service(x, 'reducer')?.instances.some(
          (i) => i.host === 'worker-2' && i.status === 'unhealthy'
        ) ?? false
    )
    expect(service(d, 'reducer')?.status).toBe('degraded')
    expect(service(d, 'reducer')?.instances.find((i) => i.host === 'worker-2')?.message).toBe(
      'cannot reach the results cache'
    )
    expect(d.status).toBe('degraded')

    // A heartbeat sent to the hub names a worker's container by its id: it merges there.
    const reducerId = await docker(['inspect', '--format', '{{.Id}}', containerName('reducer')], {
      socket: host('worker-1').engine.socket,
    })
    await beat(main, { service: 'reducer', instance: reducerId, error: 'reported to the hub' })
    d = await untilHub(
      'both reducers unhealthy at the hub',
      (x) => service(x, 'reducer')?.instances.every((i) => i.status === 'unhealthy') ?? false
    )
    expect(service(d, 'reducer')?.instances.map((i) => [i.id, i.message])).toEqual([
      [`${containerName('reducer')}@worker-1`, 'reported to the hub'],
      [`${containerName('reducer')}@worker-2`, 'cannot reach the results cache'],
    ])
    // worker-1 never heard of it: the hub holds that heartbeat, the worker its container.
    const w1 = await doc(url(host('worker-1')), PEER_TOKEN)
    expect(service(w1, 'reducer')?.status).toBe('healthy')

    // A service of the hub's own host reports to the hub, by its hostname.
    await beat(main, { service: 'compression-scheduler', instance: 'compression_scheduler' })
    d = await untilHub('the scheduler’s heartbeat merged with its container', (x) =>
      Boolean(service(x, 'compression-scheduler')?.instances[0]?.heartbeat?.lastSeenAt)
    )
    expect(service(d, 'compression-scheduler')?.instances.map((i) => i.id)).toEqual([
      containerName('compression-scheduler'),
    ])

    // Graceful shutdown of those senders: deregistered, the instances are their containers again.
    await deregister(w2, 'reducer', 'reducer')
    await deregister(main, 'reducer', reducerId)
    await deregister(main, 'compression-scheduler', 'compression_scheduler')
    d = await untilHub('healthy again after deregistering', allHealthy)
    expect(service(d, 'reducer')?.instances.every((i) => i.heartbeat === null)).toBe(true)
  }, 150_000)

  it('names a failing singleton as the cause of a worker service’s trouble, across hosts', async () => {
    const main = host('main')
    await docker(['exec', containerName('query-scheduler'), 'rm', '/tmp/ok'], {
      socket: main.engine.socket,
    })
    const d = await untilHub(
      'query-scheduler unhealthy',
      (x) => service(x, 'query-scheduler')?.status === 'unhealthy'
    )
    expect(d.status).toBe('unhealthy')
    expect(d.httpStatus).toBe(503)
    // reducer runs on the workers, query-scheduler on main: only the hub can tell.
    expect(service(d, 'reducer')?.impactedBy).toEqual(['query-scheduler'])
    expect(service(d, 'reducer')?.status).toBe('healthy')
    const w1 = await doc(url(host('worker-1')), PEER_TOKEN)
    expect(service(w1, 'reducer')?.impactedBy).toEqual([])

    await docker(['exec', containerName('query-scheduler'), 'touch', '/tmp/ok'], {
      socket: main.engine.socket,
    })
    await untilHub('healthy again', allHealthy)
  }, 150_000)

  it('turns a killed worker bridge’s instances unknown within PEER_STALE_AFTER, and recovers when it is restarted', async () => {
    const w1 = host('worker-1')
    const bridgeId = await compose(w1, ['ps', '-q', 'health-bridge'])
    const killedAt = Date.now()
    await docker(['kill', bridgeId], { socket: w1.engine.socket })

    const lost = await untilHub(
      'worker-1 lost',
      (x) => instancesOf(x, 'worker-1').every((i) => i.status === 'unknown'),
      (PEER_STALE_AFTER_S + 20) * 1000
    )
    for (const i of instancesOf(lost, 'worker-1')) expect(i.message).toMatch(LOST)
    expect(instancesOf(lost, 'worker-1')).toHaveLength(3)
    // worker-2 is unaffected; each service still has a healthy instance there.
    expect(instancesOf(lost, 'worker-2').every((i) => i.status === 'healthy')).toBe(true)
    expect(WORKER_SERVICES.map((s) => service(lost, s)?.status)).toEqual([
      'degraded',
      'degraded',
      'degraded',
    ])
    expect([lost.status, lost.httpStatus]).toEqual(['degraded', 200])
    const p = peer(lost, 'worker-1')
    expect(p?.state).not.toBe('following')
    expect(p?.detail).not.toBeNull()
    // Unreachable since the last byte heard from it: a keep-alive at most 5 s before the kill.
    const since = Date.parse(p?.unreachableSince ?? '')
    expect(since).toBeGreaterThan(killedAt - 7000)
    expect(since).toBeLessThan(killedAt + 2000)
    expect(peer(lost, 'worker-2')?.state).toBe('following')

    // What the operator runs on worker-1 to bring it back.
    await compose(w1, ['up', '--detach', '--no-deps', '--wait', 'health-bridge'])
    const back = await untilHub('worker-1 back', allHealthy, 60_000)
    expect(peer(back, 'worker-1')?.unreachableSince).toBeNull()
  }, 150_000)

  it('shows the instances of a stopped engine unknown through its own host’s bridge, and recovers', async () => {
    const w2 = host('worker-2')
    await w2.engine.stop()
    const stale = await untilHub(
      'worker-2’s Docker-judged instances unknown',
      (x) => instancesOf(x, 'worker-2').every((i) => i.status === 'unknown'),
      30_000
    )
    // The bridge on worker-2 still answers: the hub still follows it, and passes on its verdict.
    expect(peer(stale, 'worker-2')?.state).toBe('following')
    for (const i of instancesOf(stale, 'worker-2')) {
      expect(i.message).toMatch(/^docker engine unreachable since \d\d:\d\d:\d\dZ$/)
    }
    expect(instancesOf(stale, 'worker-1').every((i) => i.status === 'healthy')).toBe(true)
    expect(stale.status).toBe('degraded')
    const own = await doc(url(w2), PEER_TOKEN)
    expect(own.bridge.sources.docker.state).not.toBe('following')
    expect(own.bridge.sources.docker.unreachableSince).not.toBeNull()
    expect((await get(url(w2), '/health/ready', PEER_TOKEN)).status).toBe(503)

    // The engine comes back; CLP's on-failure policy restarts the workers it stopped.
    await w2.engine.start()
    await untilHub('worker-2 back', allHealthy, 60_000)
    expect((await doc(url(w2), PEER_TOKEN)).bridge.sources.docker.state).toBe('following')
  }, 150_000)

  it('notices a worker whose network link is cut, within PEER_STALE_AFTER, and recovers when it is back', async () => {
    const w1 = host('worker-1')
    await w1.net.cut()
    try {
      const lost = await untilHub(
        'worker-1 silent',
        (x) => instancesOf(x, 'worker-1').every((i) => i.status === 'unknown'),
        (PEER_STALE_AFTER_S + 20) * 1000
      )
      for (const i of instancesOf(lost, 'worker-1')) expect(i.message).toMatch(LOST)
      const p = peer(lost, 'worker-1')
      expect(p?.state).not.toBe('following')
      // Nothing refused or closed the connection: the hub gave up on a silent one (and later
      // attempts may fail on the host's missing ARP answer instead).
      expect(p?.detail).toMatch(
        new RegExp(`^no event or keep-alive for ${PEER_STALE_AFTER_S}s$|EHOSTUNREACH|ETIMEDOUT`)
      )
      expect(lost.status).toBe('degraded')
      const logs = await bridgeLogs(host('main'))
      expect(logs).toMatch(
        new RegExp(
          `"peer":"worker-1".*"reason":"no event or keep-alive for ${PEER_STALE_AFTER_S}s"`
        )
      )
    } finally {
      await w1.net.restore()
    }
    const back = await untilHub('worker-1 reachable again', allHealthy, 60_000)
    expect(peer(back, 'worker-1')?.detail).toBeNull()
  }, 150_000)

  it('shows a peer with a wrong token and junk peers as disconnected with a reason, and never the token', async () => {
    // A junk "peer" on the LAN: one path answers a broken event stream, the other a web page.
    const junk: Server = createServer((req, res) => {
      // The hub asks for `/health/stream?keepAlive=...`: match the path, not the whole URL.
      if (req.url?.split('?')[0] === '/health/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('event: health\ndata: {"status": "fine"\n\n')
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a router page</html>')
      }
    })
    await new Promise<void>((resolve) => junk.listen(0, lan.self, resolve))
    const junkPort = (junk.address() as { port: number }).port
    const wrong = `wrong-token-${randomUUID()}`
    try {
      const hubB = await startBridgeProcess({
        url: `http://${lan.self}:${PORT + 1}`,
        env: {
          BRIDGE_NAME: 'hub-b',
          HOST: lan.self,
          PORT: String(PORT + 1),
          DOCKER: 'off',
          PEERS: `worker-1=${url(host('worker-1'))},junk=http://${lan.self}:${junkPort},page=http://${lan.self}:${junkPort}/router`,
          PEER_TOKEN: wrong,
          PEER_STALE_AFTER: `${PEER_STALE_AFTER_S}s`,
          LOG_LEVEL: 'debug',
        },
      })
      const d = await waitFor(
        async () => {
          const x = await doc(hubB.url)
          return x.bridge.sources.peers.every((p) => p.detail !== null) ? x : null
        },
        { what: 'every peer of hub-b refused with a reason', timeoutMs: 20_000 }
      )
      expect(Object.fromEntries(d.bridge.sources.peers.map((p) => [p.name, p.detail]))).toEqual({
        'worker-1': '401 unauthorized',
        junk: 'invalid health event: not JSON',
        page: '200 not an event stream (is the URL a health-bridge?)',
      })
      for (const p of d.bridge.sources.peers) expect(p.state).not.toBe('following')
      expect(d.services).toEqual([])
      expect([d.status, d.httpStatus]).toEqual(['degraded', 200])
      expect((await get(hubB.url, '/health/live')).status).toBe(200)
      await waitFor(async () => (await get(hubB.url, '/health/ready')).status === 200, {
        what: 'hub-b ready once each peer was tried for PEER_STALE_AFTER',
        timeoutMs: (PEER_STALE_AFTER_S + 10) * 1000,
      })

      for (const path of ['/health', '/health/ready', '/metrics', '/health/history']) {
        expect((await get(hubB.url, path)).text).not.toContain(wrong)
      }
      expect(hubB.output()).toContain('peer not reachable')
      expect(hubB.output()).not.toContain(wrong)
      // Nor did the worker that refused it write it down.
      expect(await bridgeLogs(host('worker-1'))).not.toContain(wrong)
      await hubB.stop()
    } finally {
      await new Promise((resolve) => junk.close(resolve))
    }
    // The real hub was never disturbed by any of it.
    expect(allHealthy(await hub())).toBe(true)
  }, 150_000)
})
