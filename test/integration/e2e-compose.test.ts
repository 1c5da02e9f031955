/**
 * End to end on the real engine, the way a user deploys health-bridge: the image built from the
 * Dockerfile; the CLP-shaped demo stack (compose/demo/) that includes compose/health-bridge.yaml;
 * the socket-proxy variant; and a Docker socket file replaced under a running bridge. The bridge
 * is reached only from the host, through its published port, and nothing is left behind.
 */
import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  BridgeClient,
  buildImage,
  cleanUp,
  ComposeProject,
  dockerGid,
  ensureNodeBaseImage,
  freePort,
  httpGet,
  imagesLeft,
  inspectImage,
  NODE_BASE_IMAGE,
  summary,
  writeComposeFile,
  type ServiceDoc,
} from '../helpers/compose.js'
import { SocketRelay } from '../helpers/compose-socket-relay.js'
import {
  docker,
  dockerAvailable,
  DOCKER_SOCKET,
  REPO_ROOT,
  TEST_IMAGE,
  uniqueProject,
} from '../helpers/docker.js'
import { waitFor } from '../helpers/wait-for.js'

const engine = await dockerAvailable()

const run = randomBytes(3).toString('hex')
const BRIDGE_IMAGE = `hbt-e2e-bridge:${run}`
const PROXY_IMAGE = `hbt-e2e-socket-proxy:${run}`
const SNIPPET = `${REPO_ROOT}compose/health-bridge.yaml`
const PROXY_SNIPPET = `${REPO_ROOT}compose/health-bridge.socket-proxy.yaml`
const projectsUsed: ComposeProject[] = []

/** Variables every project here interpolates: offline images, the socket's group, the port. */
async function baseEnv(): Promise<Record<string, string> & { HEALTH_BRIDGE_PORT: string }> {
  return {
    DOCKER_GID: dockerGid(),
    HEALTH_BRIDGE_IMAGE: BRIDGE_IMAGE,
    HEALTH_BRIDGE_NODE_IMAGE: NODE_BASE_IMAGE,
    HEALTH_BRIDGE_PORT: String(await freePort()),
  }
}

function project(prefix: string, files: string[], env: Record<string, string>): ComposeProject {
  const p = new ComposeProject(uniqueProject(prefix), files, env)
  projectsUsed.push(p)
  return p
}

/** Waits until the bridge container's own healthcheck (node dist/healthcheck.js) passes. */
async function waitForOwnHealthcheck(p: ComposeProject, timeoutMs = 60_000): Promise<void> {
  let last = ''
  await waitFor(
    async () => {
      last = await p.inspect<string>('health-bridge', '.State.Health.Status')
      return last === 'healthy'
    },
    { timeoutMs, intervalMs: 200, what: `${p.name}: the bridge's own healthcheck (last: ${last})` }
  )
}

async function waitForService(
  bridge: BridgeClient,
  name: string,
  check: (s: ServiceDoc | undefined, httpStatus: number) => boolean,
  what: string,
  timeoutMs = 30_000
): Promise<ServiceDoc> {
  let last: ServiceDoc | undefined
  let lastStatus = 0
  try {
    await waitFor(
      async () => {
        const { status, doc } = await bridge.health()
        lastStatus = status
        last = doc.services.find((s) => s.name === name)
        return check(last, status)
      },
      { timeoutMs, intervalMs: 100, what: `${name}: ${what}` }
    )
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen (HTTP ${lastStatus}): ${summary(last)}`, {
      cause: err,
    })
  }
  if (!last) throw new Error(`${name} is absent`)
  return last
}

describe.skipIf(!engine.ok)('end to end: image, compose snippet, demo stack', () => {
  beforeAll(async () => {
    await ensureNodeBaseImage()
    // What a user runs (plus the offline base): the product's Dockerfile, the classic builder.
    await buildImage(BRIDGE_IMAGE, REPO_ROOT, { NODE_IMAGE: NODE_BASE_IMAGE })
    await buildImage(PROXY_IMAGE, `${REPO_ROOT}compose/socket-proxy`, {
      NODE_IMAGE: NODE_BASE_IMAGE,
    })
  }, 15 * 60_000)

  afterAll(cleanUp, 180_000)

  describe('the image', () => {
    it('runs node as a non-root user, checks itself with node, and ships no npm', async () => {
      const image = await inspectImage(BRIDGE_IMAGE)
      expect(image.user).toBe('1000:1000')
      expect(image.entrypoint).toEqual(['node', '/app/dist/main.js'])
      expect(image.healthcheck).toEqual(['CMD', 'node', '/app/dist/healthcheck.js'])
      expect(image.stopSignal).toBe('SIGTERM')
      expect(image.env).toContain('NODE_ENV=production')
      expect(image.exposedPorts).toEqual(['8080/tcp'])
      const listing = await docker([
        'run',
        '--rm',
        '--entrypoint',
        'sh',
        BRIDGE_IMAGE,
        '-c',
        'id -u; command -v npm || echo no-npm; ls /app; ls /app/node_modules | grep -cx -e typescript -e vitest -e eslint || true',
      ])
      expect(listing.split('\n')).toEqual([
        '1000',
        'no-npm',
        'dist',
        'node_modules',
        'package.json',
        'profiles',
        '0',
      ])
      // What the Dockerfile adds to the base: the build output and production dependencies only
      // (dev dependencies alone are ~150 MB more).
      const base = await inspectImage(NODE_BASE_IMAGE)
      const added = image.sizeBytes - base.sizeBytes
      process.stdout.write(
        `[e2e] image ${(image.sizeBytes / 1e6).toFixed(1)} MB, base ${(base.sizeBytes / 1e6).toFixed(1)} MB, added ${(added / 1e6).toFixed(1)} MB\n`
      )
      expect(added).toBeLessThan(60e6)
    })

    it('stops on `docker stop` with exit code 0 within 2 s, node being PID 1', async () => {
      const name = `hbt-e2e-stop-${run}`
      try {
        await docker(['run', '-d', '--name', name, '-e', 'DOCKER=off', BRIDGE_IMAGE])
        await waitFor(
          async () =>
            (await docker(['exec', name, 'node', '/app/dist/healthcheck.js']).catch(() => '')) ===
            'live',
          { timeoutMs: 20_000, intervalMs: 100, what: 'the bridge to listen' }
        )
        const pid1 = await docker(['exec', name, 'sh', '-c', "tr '\\0' ' ' < /proc/1/cmdline"])
        expect(pid1).toBe('node /app/dist/main.js')
        const started = Date.now()
        await docker(['stop', '-t', '10', name])
        const tookMs = Date.now() - started
        const exitCode = await docker(['inspect', '--format', '{{.State.ExitCode}}', name])
        expect({ exitCode, fast: tookMs < 2000 }).toEqual({ exitCode: '0', fast: true })
      } finally {
        await docker(['rm', '-f', name]).catch(() => undefined)
      }
    })
  })

  describe('the CLP-shaped demo with compose/health-bridge.yaml included', () => {
    let demo: ComposeProject
    let bridge: BridgeClient

    beforeAll(async () => {
      const env = {
        ...(await baseEnv()),
        DEMO_BUSYBOX_IMAGE: TEST_IMAGE,
      }
      demo = project(
        'e2e-demo',
        [`${REPO_ROOT}compose/demo/compose.yaml`, `${REPO_ROOT}compose/demo/fast.yaml`],
        env
      )
      bridge = new BridgeClient(`http://127.0.0.1:${env.HEALTH_BRIDGE_PORT}`)
      // `up` returns once the init jobs completed and everything gated on them started.
      await demo.compose(['up', '-d'], {}, 300_000)
      await waitForOwnHealthcheck(demo)
    }, 360_000)

    it('finds its own compose project and describes every service, from the host', async () => {
      await waitFor(async () => (await bridge.health()).status === 200, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'GET /health to answer 200 (everything healthy)',
      })
      const { doc } = await bridge.health()
      expect(doc.bridge.sources.docker).toMatchObject({ state: 'following', project: demo.name })
      // 3 heartbeating singletons + 2 workers x 2 replicas, each merged into its container.
      expect(doc.bridge.sources.heartbeat.instances).toBe(7)
      const byName = new Map(doc.services.map((s) => [s.name, s]))
      expect([...byName.keys()]).toEqual([
        'compression-scheduler',
        'compression-worker',
        'database',
        'db-table-creator',
        'query-scheduler',
        'query-worker',
        'queue',
        'redis',
        'reducer',
        'results-cache',
        'results-cache-indices-creator',
        'webui',
      ])
      for (const name of ['database', 'queue', 'redis', 'results-cache', 'webui']) {
        expect(byName.get(name), name).toMatchObject({
          status: 'healthy',
          kind: 'service',
          message: 'healthcheck passing',
        })
      }
      for (const name of ['db-table-creator', 'results-cache-indices-creator']) {
        expect(byName.get(name), name).toMatchObject({
          status: 'healthy',
          kind: 'job',
          message: 'completed successfully',
          job: { state: 'succeeded', exitCode: 0 },
        })
      }
      for (const [name, replicas] of [
        ['compression-scheduler', 1],
        ['query-scheduler', 1],
        ['reducer', 1],
        ['compression-worker', 2],
        ['query-worker', 2],
      ] as const) {
        const s = byName.get(name)
        expect(s?.status, summary(s)).toBe('healthy')
        expect(s?.instances.map((i) => i.id)).toEqual(
          Array.from({ length: replicas }, (_, i) => `${demo.name}-${name}-${i + 1}`)
        )
        for (const i of s?.instances ?? []) {
          // One instance per container: its heartbeat (sent with $(hostname)) merged into it.
          expect(i.docker?.state).toBe('running')
          expect(i.heartbeat?.lastSeenAt).toEqual(expect.any(String))
        }
      }
      expect(byName.get('query-scheduler')?.dependsOn).toEqual([
        'db-table-creator',
        'queue',
        'redis',
      ])
      expect(byName.get('reducer')?.dependsOn).toEqual([
        'query-scheduler',
        'results-cache-indices-creator',
      ])
    })

    it('answers 503 for ?service=query-scheduler once it stops heartbeating, 200 once it resumes', async () => {
      const url = `${bridge.baseUrl}/health?service=query-scheduler`
      expect((await httpGet(url)).status).toBe(200)
      await demo.compose(['exec', '-T', 'query-scheduler', 'touch', '/tmp/silence'])
      let answer = await httpGet<ServiceDoc>(url)
      await waitFor(async () => (answer = await httpGet<ServiceDoc>(url)).status === 503, {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: 'query-scheduler to turn 503',
      })
      expect(answer.body).toMatchObject({ name: 'query-scheduler', status: 'unhealthy' })
      expect(answer.body.message).toMatch(/^no heartbeat for more than 3s/)
      // A critical service: the whole stack is unhealthy, and says which container it is.
      const { status, doc } = await bridge.health()
      expect(status).toBe(503)
      expect(doc.status).toBe('unhealthy')
      const text = await httpGet(`${url}&format=text`)
      expect(text.text).toMatch(/^query-scheduler unhealthy: no heartbeat for more than 3s/)

      await demo.compose(['exec', '-T', 'query-scheduler', 'rm', '/tmp/silence'])
      await waitFor(async () => (await httpGet(url)).status === 200, {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: 'query-scheduler to recover',
      })
    })

    it('shows each switch: a silent scheduler, a crash-looping worker, a failed init job', async () => {
      // What a user does: the same `up -d`, with switches; compose recreates what they change.
      // (Not --no-deps: compose 2.26 then recreates a container without its depends_on label,
      // and the bridge reads the dependency graph from that label.)
      const switches = { SILENCE_SCHEDULER: '1', CRASHLOOP_WORKER: '1' }
      await demo.compose(['up', '-d'], switches, 120_000)

      const worker = await waitForService(
        bridge,
        'compression-worker',
        (s) => s?.status === 'unhealthy',
        'the crash-looping worker'
      )
      // The replaced replicas deregistered on their way out: no ghost instances of them remain.
      expect(worker.instances.map((i) => i.id)).toEqual([
        `${demo.name}-compression-worker-1`,
        `${demo.name}-compression-worker-2`,
      ])
      for (const i of worker.instances) {
        expect(i.message).toMatch(/crash-looping|exited with code 1/)
      }

      // Recreated with SILENCE_SCHEDULER=1, it never reports: starting within STARTUP_GRACE, then
      // unhealthy, and the orchestrator-style query says 503.
      const scheduler = await waitForService(
        bridge,
        'query-scheduler',
        (s) => s?.status === 'unhealthy',
        'the silent scheduler',
        40_000
      )
      expect(scheduler.message).toMatch(/no heartbeat received/)
      expect((await bridge.service('query-scheduler')).status).toBe(503)

      // A failing init job, re-run together with what waits for it: compose recreates them all,
      // stops at the failure and says so; what waits for the job stays created, never started.
      // The services are named with --force-recreate because a plain `up -d` differs between
      // Compose versions: 2.26 recreates every service gated on a recreated job, 2.40 leaves a
      // running dependent whose own configuration did not change running.
      const gated = ['query-scheduler', 'compression-scheduler', 'reducer', 'webui']
      await expect(
        demo.compose(
          ['up', '-d', '--force-recreate', 'db-table-creator', ...gated],
          { ...switches, BREAK_INIT_JOB: '1' },
          120_000
        )
      ).rejects.toThrow(/db-table-creator.* didn't complete successfully: exit 1/)
      const job = await waitForService(
        bridge,
        'db-table-creator',
        // restart: on-failure:3 (CLP's policy) retries it three times before it stays failed.
        (s) => s?.job?.state === 'failed',
        'the failed init job'
      )
      expect(job).toMatchObject({
        status: 'unhealthy',
        kind: 'job',
        message: 'failed with exit code 1',
        job: { state: 'failed', exitCode: 1 },
      })
      // Who waits for the failed job, for a UI to show the root cause.
      const { status, doc } = await bridge.health()
      expect(status).toBe(503)
      for (const name of gated) {
        const s = doc.services.find((x) => x.name === name)
        expect(s, name).toMatchObject({
          status: 'starting',
          message: 'created, not started',
          impactedBy: ['db-table-creator'],
        })
      }
    }, 180_000)
  })

  describe('compose/health-bridge.socket-proxy.yaml: only an allowlisting proxy sees the socket', () => {
    let p: ComposeProject
    let bridge: BridgeClient

    beforeAll(async () => {
      const env = { ...(await baseEnv()), HEALTH_BRIDGE_SOCKET_PROXY_IMAGE: PROXY_IMAGE }
      const file = writeComposeFile(
        'hbt-e2e-proxy',
        `include:\n  - ${PROXY_SNIPPET}\nservices:\n  web:\n    image: ${TEST_IMAGE}\n` +
          `    command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait']\n` +
          `    healthcheck: { test: ['CMD', 'true'], interval: 1s }\n`
      )
      p = project('e2e-proxy', [file], env)
      bridge = new BridgeClient(`http://127.0.0.1:${env.HEALTH_BRIDGE_PORT}`)
      await p.compose(['up', '-d'], {}, 120_000)
      await waitForOwnHealthcheck(p)
    }, 180_000)

    it('follows its project through the proxy, with no socket of its own', async () => {
      const web = await waitForService(bridge, 'web', (s) => s?.status === 'healthy', 'web healthy')
      expect(web.message).toBe('healthcheck passing')
      const { doc } = await bridge.health()
      expect(doc.bridge.sources.docker).toMatchObject({ state: 'following', project: p.name })
      expect((await httpGet(`${bridge.baseUrl}/health/ready`)).status).toBe(200)
      const mounts = await p.inspect<{ Destination: string }[]>('health-bridge', '.Mounts')
      expect(mounts).toEqual([])
    })

    it('refuses what the bridge does not need: other paths 403, other methods 405, other clients 403', async () => {
      const web = await p.container('web')
      const probe = `
        const ask = (method, path) => fetch('http://docker-socket-proxy:2375' + path, { method })
          .then((r) => r.status, (e) => 'error ' + (e.cause?.message ?? e.message))
        Promise.all([
          ask('GET', '/v1.41/containers/${web}/json'),
          ask('GET', '/v1.41/containers/${web}/logs?stdout=1'),
          ask('GET', '/v1.41/containers/${web}/archive?path=/etc'),
          ask('GET', '/v1.41/containers/${web}/export'),
          ask('GET', '/v1.41/images/json'),
          ask('POST', '/v1.41/containers/create'),
          ask('DELETE', '/v1.41/containers/${web}'),
        ]).then((all) => console.log(all.join(' ')))`
      const fromBridge = await p.compose(['exec', '-T', 'health-bridge', 'node', '-e', probe])
      expect(fromBridge).toBe('200 403 403 403 403 405 405')
      // Any other container on the proxy's network is not the bridge: refused.
      const network = `${p.name}_health-bridge-docker`
      const fromOther = await docker([
        'run',
        '--rm',
        '--network',
        network,
        TEST_IMAGE,
        'sh',
        '-c',
        'wget -q -O- http://docker-socket-proxy:2375/_ping 2>&1; echo " exit=$?"',
      ])
      expect(fromOther).toMatch(/403 Forbidden.* exit=1$/s)
    })
  })

  describe('a Docker socket file replaced under a running bridge (engine restart)', () => {
    let relay: SocketRelay
    let p: ComposeProject
    let bridge: BridgeClient

    beforeAll(async () => {
      relay = await SocketRelay.start(DOCKER_SOCKET)
      const env = {
        ...(await baseEnv()),
        // The bridge bind-mounts the relay's socket file instead of the engine's.
        HEALTH_BRIDGE_DOCKER_SOCKET: relay.path,
        HEALTH_BRIDGE_DOCKER_STALE_AFTER: '1s',
        HEALTH_BRIDGE_DOCKER_GIVE_UP_AFTER: '3s',
      }
      const file = writeComposeFile(
        'hbt-e2e-stale',
        `include:\n  - ${SNIPPET}\nservices:\n  web:\n    image: ${TEST_IMAGE}\n` +
          `    command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait']\n` +
          `    healthcheck: { test: ['CMD', 'true'], interval: 1s }\n`
      )
      p = project('e2e-stale', [file], env)
      bridge = new BridgeClient(`http://127.0.0.1:${env.HEALTH_BRIDGE_PORT}`)
      await p.compose(['up', '-d'], {}, 120_000)
      await waitForService(bridge, 'web', (s) => s?.status === 'healthy', 'web healthy')
    }, 180_000)

    afterAll(async () => {
      await p.down()
      await relay.close()
    }, 60_000)

    it('exits 70 as soon as the socket it mounted is replaced, and comes back on the new one by its restart policy', async () => {
      const bridgeId = await p.container('health-bridge')
      // dockerd restarting: the mounted socket file is deleted (its inode now has no link), and
      // a new file sits at the same path on the host, out of this container's reach.
      await relay.replace()
      await waitFor(
        async () =>
          Number(await docker(['inspect', '--format', '{{.RestartCount}}', bridgeId])) >= 1,
        { timeoutMs: 30_000, intervalMs: 200, what: 'the restart policy to restart the bridge' }
      )
      // Same container, restarted by `restart: unless-stopped`: it mounted the new socket file.
      const web = await waitForService(
        bridge,
        'web',
        (s) => s?.status === 'healthy',
        'web healthy again, seen through the new socket',
        30_000
      )
      expect(web.message).toBe('healthcheck passing')
      const { doc } = await bridge.health()
      expect(doc.bridge.sources.docker).toMatchObject({ state: 'following', project: p.name })
      const logs = await docker(['logs', bridgeId])
      const lines = logs
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; code?: number; reason?: string })
      expect(lines.find((l) => l.msg === 'health-bridge stopped')?.code).toBe(70)
      // Not after DOCKER_GIVE_UP_AFTER of retrying: the removed mount was recognised.
      const gaveUp = lines.find((l) => l.reason?.includes('was removed') === true)
      expect(gaveUp?.reason).toMatch(/the Docker socket this bridge mounted .* was removed/)
    }, 120_000)
  })

  it('leaves nothing behind: containers, networks, volumes, images', async () => {
    await cleanUp()
    for (const p of projectsUsed) expect(await p.leftovers(), p.name).toEqual([])
    expect(await imagesLeft([BRIDGE_IMAGE, PROXY_IMAGE])).toEqual([])
  }, 180_000)
})
