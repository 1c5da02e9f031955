/**
 * Faults in a CLP-shaped package started with CLP's own command, each asserted over HTTP against
 * the bridge, the way a user or the WebUI would notice them: a killed worker, Redis paused and
 * unpaused, the database's probe failing with CLP-shaped timings, heartbeats that stop, a crash
 * loop under `restart: on-failure:3` that is then fixed, `compose stop` of the API server. The
 * heartbeats are switched on with the guide's lines (docs/deployment.md 9.5-9.6): the process
 * sender for compression-scheduler (expected through a copy of the profile, mounted as 9.5 says)
 * and reducer (through the label), and the healthcheck line for query-worker. At the end, every
 * answer, stream event and log line of the bridge is searched for the package's passwords.
 */
import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { buildImage, cleanUp, ensureNodeBaseImage, NODE_BASE_IMAGE } from '../helpers/compose.js'
import { docker, dockerAvailable, REPO_ROOT } from '../helpers/docker.js'
import { waitFor } from '../helpers/wait-for.js'
import {
  BridgeReader,
  buildPackageImage,
  ENABLED_SERVICES,
  guideBlock,
  insertUnder,
  preparePackage,
  removeImage,
  run,
  secretsFound,
  whyNotClp,
  type ClpPackage,
  type ServiceDoc,
  type StreamRecorder,
} from '../fixtures/clp/stack.js'

const engine = await dockerAvailable()
const notClp = engine.ok ? await whyNotClp() : null
if (notClp !== null) process.stderr.write(`\n[clp tests skipped] ${notClp}\n`)

const tag = randomBytes(3).toString('hex')
const BRIDGE_IMAGE = `hbt-clp-bridge:${tag}`
const PACKAGE_IMAGE = `hbt-clp-package:${tag}`
const HEARTBEAT_TIMEOUT_S = 5
const CRASHLOOP_STABLE_AFTER_S = 8
const STARTUP_GRACE_S = 10

describe.skipIf(!engine.ok || notClp !== null)('faults in a CLP package, over HTTP', () => {
  let pkg: ClpPackage
  let bridge: BridgeReader
  let stream: StreamRecorder

  /** Everything healthy again (200), the state every fault starts from and returns to. */
  const allHealthy = (what: string) =>
    bridge.waitForDoc(
      (d, code) =>
        code === 200 &&
        d.status === 'healthy' &&
        d.services.length === ENABLED_SERVICES.length &&
        d.services.every((s) => s.status === 'healthy'),
      `everything healthy again (${what})`,
      60_000
    )

  const only = (s: ServiceDoc) => {
    expect(s.instances).toHaveLength(1)
    const [instance] = s.instances
    if (!instance) throw new Error(`${s.name} has no instance`)
    return instance
  }

  beforeAll(async () => {
    await ensureNodeBaseImage()
    await buildImage(BRIDGE_IMAGE, REPO_ROOT, { NODE_IMAGE: NODE_BASE_IMAGE })
    await buildPackageImage(PACKAGE_IMAGE)
    // The profile a user edits (9.5): the copy the image carries, with one line added.
    const { stdout: profile } = await run('docker', [
      'run',
      '--rm',
      '--entrypoint',
      'cat',
      BRIDGE_IMAGE,
      '/app/profiles/clp.yaml',
    ])
    pkg = await preparePackage({
      packageImage: PACKAGE_IMAGE,
      bridgeImage: BRIDGE_IMAGE,
      bridgeSettings: {
        HEARTBEAT_TIMEOUT: `${HEARTBEAT_TIMEOUT_S}s`,
        STARTUP_GRACE: `${STARTUP_GRACE_S}s`,
        CRASHLOOP_STABLE_AFTER: `${CRASHLOOP_STABLE_AFTER_S}s`,
        // The most the bridge ever logs, for the secret check.
        LOG_LEVEL: 'debug',
      },
      edit: (p) => {
        p.write(
          'etc/health-bridge/clp.yaml',
          insertUnder(profile, ['services', 'compression-scheduler'], '    heartbeat: true\n')
        )
        p.edit('docker-compose-all.yaml', (t) => {
          let out = insertUnder(
            t,
            ['services', 'health-bridge', 'volumes'],
            guideBlock('custom-profile')
          )
          out = insertUnder(
            out,
            ['services', 'compression-scheduler', 'environment'],
            guideBlock('heartbeat-env')
          )
          out = insertUnder(
            out,
            ['services', 'reducer'],
            `    environment:\n${guideBlock('heartbeat-env')}${guideBlock('heartbeat-label')}`
          )
          return insertUnder(out, ['services', 'query-worker'], guideBlock('heartbeat-healthcheck'))
        })
      },
    })
    bridge = new BridgeReader(`http://127.0.0.1:${pkg.bridgePort}`)
    await pkg.startLikeClp()
    await allHealthy('after the start')
    stream = bridge.follow()
  }, 15 * 60_000)

  afterAll(async () => {
    await stream.close()
    await pkg.down().catch(() => undefined)
    await removeImage(PACKAGE_IMAGE)
    await cleanUp()
  }, 180_000)

  it('merges each heartbeat into its container: process senders and the healthcheck line', async () => {
    const { doc } = await bridge.health()
    const byName = new Map(doc.services.map((s) => [s.name, s]))
    for (const [name, timeoutSeconds] of [
      ['compression-scheduler', HEARTBEAT_TIMEOUT_S],
      ['reducer', HEARTBEAT_TIMEOUT_S],
      ['query-worker', 100],
    ] as const) {
      const s = byName.get(name)
      if (!s) throw new Error(`${name} is absent`)
      const instance = only(s)
      expect(instance.id).toBe(`${pkg.project}-${name}-1`)
      expect(instance.docker?.state).toBe('running')
      expect(instance.heartbeat?.timeoutSeconds).toBe(timeoutSeconds)
      expect(instance.heartbeat?.lastSeenAt).toEqual(expect.any(String))
    }
    // Three senders, each merged: no heartbeat became an instance of its own.
    expect(doc.bridge.sources.heartbeat.instances).toBe(3)
  })

  it('expects heartbeats where the guide says so: the profile copy and the label', async () => {
    // Silenced and deregistered, a service the bridge merely heard from would fall back to
    // Docker's "running"; one that is expected to report is not healthy without its reports.
    for (const [name, hostname] of [
      ['compression-scheduler', 'compression_scheduler'],
      ['reducer', 'reducer'],
    ] as const) {
      await pkg.compose(['exec', '-T', name, 'touch', '/tmp/silence'])
      const res = await fetch(`${bridge.baseUrl}/health?service=${name}&instance=${hostname}`, {
        method: 'DELETE',
      })
      expect(res.status, name).toBe(204)
      const s = await bridge.waitForService(
        name,
        (x) => x.status === 'unhealthy',
        'unhealthy without the heartbeats it is expected to send',
        STARTUP_GRACE_S * 1000 + 30_000
      )
      expect(s.message).toBe(`no heartbeat received (expected within ${STARTUP_GRACE_S}s of start)`)
      expect(only(s).heartbeat).toMatchObject({ expected: true, lastSeenAt: null })
      await pkg.compose(['exec', '-T', name, 'rm', '/tmp/silence'])
    }
    await allHealthy('heartbeats resumed')
  }, 120_000)

  it('a killed worker: unhealthy "exited with code 137", the stack 503, back after CLP\'s start', async () => {
    await docker(['kill', await pkg.container('compression-worker')])
    const worker = await bridge.waitForService(
      'compression-worker',
      (s) => s.status === 'unhealthy',
      'unhealthy once killed'
    )
    expect(worker.message).toBe('exited with code 137')
    expect(only(worker).docker).toMatchObject({ state: 'exited', exitCode: 137 })
    const { status, doc } = await bridge.health()
    expect({ status, overall: doc.status }).toEqual({ status: 503, overall: 'unhealthy' })
    expect((await bridge.service('compression-worker')).status).toBe(503)
    await pkg.startLikeClp()
    await allHealthy('the worker started again')
  })

  it('Redis paused: "paused" and its dependents impacted; unpaused: the probe message, then healthy', async () => {
    await pkg.compose(['pause', 'redis'])
    const redis = await bridge.waitForService('redis', (s) => s.message === 'paused', 'paused')
    expect(redis.status).toBe('unhealthy')
    const { status, doc } = await bridge.health()
    expect(status).toBe(503)
    const impacted = Object.fromEntries(doc.services.map((s) => [s.name, s.impactedBy]))
    expect(impacted).toMatchObject({
      'compression-scheduler': ['redis'],
      'query-scheduler': ['redis'],
      // Through query-scheduler, which waits for Redis.
      reducer: ['redis'],
      'compression-worker': [],
      database: [],
    })
    await pkg.compose(['unpause', 'redis'])
    await allHealthy('Redis unpaused')
    // Docker calls a container unhealthy after an unpause until its next probe; the bridge says
    // what is known instead of quoting the passing probe's output as a failure.
    expect(stream.of('redis').map((s) => [s.status, s.message])).toEqual(
      expect.arrayContaining([
        ['unhealthy', 'paused'],
        [
          'unhealthy',
          "healthcheck unhealthy; the last probe passed (waiting for Docker's next probe)",
        ],
      ])
    )
    const states = stream.of('redis').map((s) => s.message)
    expect(states.slice(states.indexOf('paused'))).toEqual([
      'paused',
      "healthcheck unhealthy; the last probe passed (waiting for Docker's next probe)",
      'healthcheck passing',
    ])
  })

  it("the database probe failing: unhealthy after 3 failed probes, with mysqladmin's words", async () => {
    await pkg.compose(['exec', '-T', 'database', 'rm', '/tmp/www/ping'])
    // The health_status event turns it unhealthy at once; the inspect behind it brings the probe.
    const database = await bridge.waitForService(
      'database',
      (s) => s.status === 'unhealthy' && s.message.includes('mysqladmin'),
      "unhealthy once its probe fails, with the probe's words",
      60_000
    )
    expect(database.message).toBe(
      "healthcheck failing (3 in a row): mysqladmin: connect to server at '127.0.0.1' failed\n" +
        "error: 'Can't connect to MySQL server on '127.0.0.1' (115)'"
    )
    // Retries: 3, as in CLP. It was never called unhealthy on a shorter streak, nor with the
    // words of a probe that passed (the event comes first, without the probe's output).
    const unhealthy = stream.of('database').filter((s) => s.status === 'unhealthy')
    for (const s of unhealthy) {
      expect(s.message).toMatch(/^healthcheck failing($| \(3 in a row\))/)
    }
    const { status, doc } = await bridge.health()
    expect(status).toBe(503)
    const impacted = Object.fromEntries(doc.services.map((s) => [s.name, s.impactedBy]))
    expect(impacted).toMatchObject({
      'db-table-creator': ['database'],
      // Transitively, through the init job they wait for.
      'compression-scheduler': ['database'],
      'api-server': ['database'],
      'results-cache-indices-creator': [],
    })
    await pkg.compose(['exec', '-T', 'database', 'sh', '-c', 'echo pong > /tmp/www/ping'])
    await allHealthy('the database answers again')
  })

  it('stopped heartbeats: the running scheduler turns unhealthy, 503 on ?service=, then recovers', async () => {
    await pkg.compose(['exec', '-T', 'compression-scheduler', 'touch', '/tmp/silence'])
    const scheduler = await bridge.waitForService(
      'compression-scheduler',
      (s) => s.status === 'unhealthy',
      'unhealthy once silent'
    )
    expect(scheduler.message).toMatch(
      new RegExp(
        `^no heartbeat for more than ${HEARTBEAT_TIMEOUT_S}s \\(last at \\d\\d:\\d\\d:\\d\\dZ\\)$`
      )
    )
    // Docker alone would call it healthy: the container still runs.
    expect(only(scheduler).docker?.state).toBe('running')
    const text = await bridge.get('/health?service=compression-scheduler&format=text')
    expect(text.status).toBe(503)
    expect(text.text).toMatch(/^compression-scheduler unhealthy: no heartbeat for more than/)
    expect((await bridge.health()).status).toBe(503)
    await pkg.compose(['exec', '-T', 'compression-scheduler', 'rm', '/tmp/silence'])
    await allHealthy('heartbeats resumed')
  })

  it('a crash loop under on-failure:3, then fixed: crash-looping until CRASHLOOP_STABLE_AFTER, then healthy', async () => {
    // A bad configuration: the worker exits 1 at once, Docker restarts it three times, gives up.
    pkg.edit('var/log/.clp-config.yaml', (t) => `${t}crash: compression-worker\n`)
    const gaveUp = await bridge.waitForService(
      'compression-worker',
      (s) => s.instances[0]?.docker?.state === 'exited' && s.instances[0].docker.restartCount === 3,
      'on-failure:3 to give up'
    )
    expect(gaveUp).toMatchObject({ status: 'unhealthy', message: 'exited with code 1' })
    expect(stream.of('compression-worker').map((s) => s.message)).toContainEqual(
      expect.stringMatching(/^crash-looping: \d restarts in 15m/)
    )
    // Fixed, and started again the way a CLP user does: CLP's start command.
    pkg.edit('var/log/.clp-config.yaml', (t) => t.replace('crash: compression-worker\n', ''))
    await pkg.startLikeClp()
    const running = await bridge.waitForService(
      'compression-worker',
      (s) => s.instances[0]?.docker?.state === 'running',
      'running again'
    )
    // Running, but not yet trusted: its restarts are still inside the window.
    expect(running.status).toBe('unhealthy')
    expect(running.message).toMatch(
      /^crash-looping: \d restarts in 15m \(up since \d\d:\d\d:\d\dZ\)$/
    )
    const healthy = await bridge.waitForService(
      'compression-worker',
      (s) => s.status === 'healthy',
      'forgiven after CRASHLOOP_STABLE_AFTER',
      CRASHLOOP_STABLE_AFTER_S * 1000 + 30_000
    )
    expect(healthy.message).toBe('running')
    const startedAt = Date.parse(only(healthy).docker?.startedAt ?? '')
    const since = Date.parse(healthy.since)
    // Forgiven no earlier than CRASHLOOP_STABLE_AFTER after its start (the bridge's own clock).
    expect(since - startedAt).toBeGreaterThanOrEqual(CRASHLOOP_STABLE_AFTER_S * 1000 - 1000)
    await allHealthy('the worker forgiven')
  })

  it('`compose stop` of the API server: unhealthy, the stack 503; started again, healthy', async () => {
    await pkg.compose(['stop', 'api-server'])
    const api = await bridge.waitForService(
      'api-server',
      (s) => s.status === 'unhealthy',
      'unhealthy once stopped'
    )
    expect(api.message).toBe('exited with code 0')
    expect(only(api).docker?.state).toBe('exited')
    const text = await bridge.get('/health?service=api-server&format=text')
    expect(text).toMatchObject({ status: 503, text: 'api-server unhealthy: exited with code 0\n' })
    const { status, doc } = await bridge.health()
    expect({ status, overall: doc.status }).toEqual({ status: 503, overall: 'unhealthy' })
    // Nothing waits for the API server in CLP's files: nobody else is marked impacted.
    expect(doc.services.filter((s) => s.impactedBy.length > 0)).toEqual([])
    await pkg.startLikeClp()
    await allHealthy('the API server started again')
  })

  it('no secret ever left the bridge: not in an answer, a stream event or a log line', async () => {
    // The secrets are there to leak: in the environment and on the probes' command lines that
    // the engine API hands the bridge with every inspect.
    const env = await pkg.inspect<string[]>('api-server', '.Config.Env')
    expect(env).toContain(`CLP_DB_PASS=${pkg.secrets.CLP_DB_PASS}`)
    const probe = await pkg.inspect<{ Test: string[] }>('redis', '.Config.Healthcheck')
    expect(probe.Test).toContain(pkg.secrets.CLP_REDIS_PASS)
    for (const path of ['/health', '/health/history', '/metrics', '/', '/health/ready']) {
      await bridge.get(path)
    }
    for (const s of ENABLED_SERVICES) await bridge.get(`/health?service=${s}&format=text`)
    const logs = await pkg.bridgeLogs()
    // The log is not empty: the bridge logged every transition above (at debug level).
    expect(logs.split('\n').filter((l) => l.startsWith('{')).length).toBeGreaterThan(20)
    await waitFor(() => stream.seen.length > 0, { what: 'stream events' })
    expect(secretsFound([...bridge.transcript, logs], pkg.secrets)).toEqual([])
  })

  it('leaves nothing behind', async () => {
    await stream.close()
    await pkg.down()
    expect(await pkg.leftovers()).toEqual([])
  }, 120_000)
})
