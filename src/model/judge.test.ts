import { describe, expect, it } from 'vitest'

import {
  T0,
  container,
  following,
  heartbeat,
  m,
  modelConfig,
  s,
} from '../../test/helpers/builders.js'

import { judge, type Observations } from './judge.js'
import { DOCKER_DISABLED, type ContainerObservation } from './observations.js'
import type { ModelConfig } from './settings.js'

function run(
  parts: Partial<Observations> & { config?: ModelConfig },
  now = T0
): ReturnType<typeof judge> {
  return judge(
    {
      containers: parts.containers ?? [],
      heartbeats: parts.heartbeats ?? [],
      docker: parts.docker ?? following(),
      bridgeStartedAt: parts.bridgeStartedAt ?? T0 - m(10),
    },
    parts.config ?? modelConfig(),
    now
  )
}

function svc(j: ReturnType<typeof judge>, name: string) {
  const found = j.services.find((x) => x.name === name)
  if (!found) throw new Error(`service ${name} not reported`)
  return found
}

describe('Docker table: one container of a long-running service', () => {
  it.each<[string, Partial<ContainerObservation>, string, string]>([
    ['running, no healthcheck', {}, 'healthy', 'running'],
    ['running, health starting', { health: 'starting' }, 'starting', 'healthcheck starting'],
    ['running, health healthy', { health: 'healthy' }, 'healthy', 'healthcheck passing'],
    [
      'running, health unhealthy',
      { health: 'unhealthy', failingStreak: 3, lastProbeOutput: 'connection refused' },
      'unhealthy',
      'healthcheck failing (3 in a row): connection refused',
    ],
    ['created (waiting on depends_on)', { state: 'created' }, 'starting', 'created, not started'],
    [
      'restarting',
      { state: 'restarting', exitCode: 1 },
      'unhealthy',
      'restarting after it exited with code 1',
    ],
    ['paused', { state: 'paused' }, 'unhealthy', 'paused'],
    [
      'exited, OOM killed',
      { state: 'exited', exitCode: 137, oomKilled: true },
      'unhealthy',
      'exited with code 137 (OOM killed)',
    ],
    [
      'exited 0 (a service must not exit)',
      { state: 'exited', exitCode: 0 },
      'unhealthy',
      'exited with code 0',
    ],
    ['dead', { state: 'dead', exitCode: 1 }, 'unhealthy', 'dead'],
  ])('%s', (_desc, over, status, message) => {
    const j = run({ containers: [container('api', over)] })
    expect(svc(j, 'api')).toMatchObject({ status, message, kind: 'service' })
    expect(svc(j, 'api').instances[0]?.container?.state).toBe(over.state ?? 'running')
  })
})

describe('crash loops over a sliding window', () => {
  const config = modelConfig({ crashloopRestarts: 2, crashloopWindowMs: m(15) })

  it('forgives one restart', () => {
    const j = run({
      config,
      containers: [container('worker', { restartCount: 1, restarts: [T0 - m(1)] })],
    })
    expect(svc(j, 'worker')).toMatchObject({ status: 'healthy', message: 'running' })
    expect(svc(j, 'worker').instances[0]?.recentRestarts).toBe(1)
  })

  it('calls N restarts within the window crash-looping, even while the snapshot says running', () => {
    const c = container('worker', { restartCount: 3, restarts: [T0 - m(10), T0 - m(5), T0 - s(5)] })
    const j = run({ config, containers: [c] })
    expect(svc(j, 'worker')).toMatchObject({
      status: 'unhealthy',
      message: 'crash-looping: 3 restarts in 15m (up since 09:59:55Z)',
    })
  })

  it('recovers by itself when restarts age out, exactly on time and with no event', () => {
    const c = container('worker', { restartCount: 2, restarts: [T0 - m(14), T0 - m(1)] })
    const before = run({ config, containers: [c] })
    expect(svc(before, 'worker').status).toBe('unhealthy')
    // The oldest restart leaves the window at T0 - 14m + 15m = T0 + 1m.
    expect(before.nextDeadline).toBe(T0 + m(1))
    expect(svc(run({ config, containers: [c] }, T0 + m(1) - 1), 'worker').status).toBe('unhealthy')
    expect(svc(run({ config, containers: [c] }, T0 + m(1)), 'worker')).toMatchObject({
      status: 'healthy',
      message: 'running',
    })
  })

  it('uses the crash-loop message for a restarting container past the threshold', () => {
    const c = container('worker', { state: 'restarting', restarts: [T0 - s(30), T0 - s(10)] })
    expect(svc(run({ config, containers: [c] }), 'worker').message).toBe(
      'crash-looping: 2 restarts in 15m'
    )
  })
})

describe('jobs', () => {
  const job = (over: Partial<ContainerObservation>) =>
    container('db-table-creator', { labels: { role: 'job' }, ...over })

  it.each<[string, Partial<ContainerObservation>, string, string, string]>([
    [
      'exited 0',
      { state: 'exited', exitCode: 0 },
      'healthy',
      'completed successfully',
      'succeeded',
    ],
    [
      'exited non-zero',
      { state: 'exited', exitCode: 1 },
      'unhealthy',
      'failed with exit code 1',
      'failed',
    ],
    [
      'exited 137 with OOM',
      { state: 'exited', exitCode: 137, oomKilled: true },
      'unhealthy',
      'failed with exit code 137 (OOM killed)',
      'failed',
    ],
    ['created', { state: 'created' }, 'starting', 'created, not started', 'pending'],
    ['running', { state: 'running' }, 'starting', 'running', 'running'],
  ])('%s', (_desc, over, status, message, state) => {
    const j = run({ containers: [job(over)] })
    expect(svc(j, 'db-table-creator')).toMatchObject({
      status,
      message,
      kind: 'job',
      job: { state },
    })
  })

  it('turns a job running longer than its job-timeout unhealthy, exactly at the timeout', () => {
    const c = job({ startedAt: T0, labels: { role: 'job', jobTimeoutMs: m(10) } })
    const j = run({ containers: [c] })
    expect(j.nextDeadline).toBe(T0 + m(10))
    expect(svc(run({ containers: [c] }, T0 + m(10) - 1), 'db-table-creator').status).toBe(
      'starting'
    )
    expect(svc(run({ containers: [c] }, T0 + m(10)), 'db-table-creator')).toMatchObject({
      status: 'unhealthy',
      message: 'still running after 10m (hung?)',
    })
  })

  it('knows a job from another service waiting on service_completed_successfully', () => {
    const init = container('results-cache-indices-creator', { state: 'exited', exitCode: 0 })
    const api = container('api-server', {
      dependsOn: [
        {
          service: 'results-cache-indices-creator',
          condition: 'service_completed_successfully',
        },
      ],
    })
    const j = run({ containers: [init, api] })
    expect(svc(j, 'results-cache-indices-creator')).toMatchObject({
      kind: 'job',
      status: 'healthy',
    })
    expect(svc(j, 'api-server').kind).toBe('service')
  })

  it('lets the config file make a service a job (and the file beats the label)', () => {
    const c = container('migrate', { state: 'exited', exitCode: 0, labels: { role: 'service' } })
    const j = run({
      containers: [c],
      config: modelConfig({ services: { migrate: { role: 'job' } } }),
    })
    expect(svc(j, 'migrate')).toMatchObject({ kind: 'job', status: 'healthy' })
  })

  it("takes the job's status from its most recent container", () => {
    const old = job({ state: 'exited', exitCode: 1, createdAt: T0 - m(10), number: 1 })
    const latest = job({ state: 'exited', exitCode: 0, createdAt: T0 - m(1), number: 2 })
    const j = run({ containers: [old, latest] })
    expect(svc(j, 'db-table-creator')).toMatchObject({
      status: 'healthy',
      job: { state: 'succeeded', exitCode: 0 },
    })
    expect(svc(j, 'db-table-creator').instances).toHaveLength(2)
  })

  it('judges a heartbeat-only job by its reported end', () => {
    const config = modelConfig({ services: { backup: { role: 'job' } } })
    const running = run({ docker: DOCKER_DISABLED, config, heartbeats: [heartbeat('backup')] })
    expect(svc(running, 'backup')).toMatchObject({ status: 'starting', job: { state: 'running' } })
    const done = run({
      docker: DOCKER_DISABLED,
      config,
      heartbeats: [heartbeat('backup', { reported: 'failed', error: 'disk full' })],
    })
    expect(svc(done, 'backup')).toMatchObject({
      status: 'unhealthy',
      message: 'disk full',
      job: { state: 'failed' },
    })
  })
})

describe('Docker unreachable', () => {
  const c = container('api', { health: 'healthy' })
  const lost = following({ state: 'disconnected', unreachableSince: T0 })

  it('keeps the last judgement until DOCKER_STALE_AFTER, then turns Docker-judged instances unknown', () => {
    const early = run({ containers: [c], docker: lost }, T0 + s(10) - 1)
    expect(svc(early, 'api').status).toBe('healthy')
    expect(early.nextDeadline).toBe(T0 + s(10))
    const late = run({ containers: [c], docker: lost }, T0 + s(10))
    expect(svc(late, 'api')).toMatchObject({
      status: 'unknown',
      message: 'docker engine unreachable since 10:00:00Z',
    })
    // A blind bridge must not answer 200 (the contract's overall rule for a critical unknown).
    expect(late.status).toBe('unknown')
  })

  it('never calls a stale container healthy even when its heartbeat is fresh', () => {
    const hb = heartbeat('api', { instance: c.name, receivedAt: T0 + s(9) })
    const j = run({ containers: [c], heartbeats: [hb], docker: lost }, T0 + s(11))
    expect(svc(j, 'api').instances[0]).toMatchObject({ status: 'unknown' })
  })
})

describe('Heartbeat table', () => {
  const none = DOCKER_DISABLED

  it('is healthy while the last one is younger than its timeout, and flips exactly at the timeout', () => {
    const hb = heartbeat('query-scheduler', { receivedAt: T0 + s(5) })
    const fresh = run({ docker: none, heartbeats: [hb] }, T0 + s(35) - 1)
    expect(svc(fresh, 'query-scheduler')).toMatchObject({ status: 'healthy' })
    expect(fresh.nextDeadline).toBe(T0 + s(35))
    const stale = run({ docker: none, heartbeats: [hb] }, T0 + s(35))
    expect(svc(stale, 'query-scheduler')).toMatchObject({
      status: 'unhealthy',
      message: 'no heartbeat for more than 30s (last at 10:00:05Z)',
    })
  })

  it('reports the error of the last heartbeat', () => {
    const j = run({
      docker: none,
      heartbeats: [
        heartbeat('reducer', { reported: 'unhealthy', error: 'failed to connect to database' }),
      ],
    })
    expect(svc(j, 'reducer')).toMatchObject({
      status: 'unhealthy',
      message: 'failed to connect to database',
    })
  })

  it('reports status: unhealthy without an error', () => {
    const j = run({ docker: none, heartbeats: [heartbeat('reducer', { reported: 'unhealthy' })] })
    expect(svc(j, 'reducer')).toMatchObject({ status: 'unhealthy', message: 'reported unhealthy' })
  })

  it.each([
    ['succeeded', 'healthy', 'completed successfully'],
    ['failed', 'unhealthy', 'reported failed'],
  ] as const)('treats %s like a job exit, and it never goes stale', (reported, status, message) => {
    const j = run({ docker: none, heartbeats: [heartbeat('init', { reported })] }, T0 + m(60))
    expect(svc(j, 'init')).toMatchObject({ status, message })
    expect(j.nextDeadline).toBeNull()
    expect(j.forget).toEqual([])
  })

  it('expects heartbeats from a configured service: starting within STARTUP_GRACE, then unhealthy', () => {
    const config = modelConfig({
      startupGraceMs: s(20),
      services: { 'compression-scheduler': { heartbeat: true } },
    })
    const start = run({ docker: none, config, bridgeStartedAt: T0 }, T0 + s(20) - 1)
    expect(svc(start, 'compression-scheduler')).toMatchObject({
      status: 'starting',
      message: 'waiting for the first heartbeat',
    })
    expect(start.nextDeadline).toBe(T0 + s(20))
    const after = run({ docker: none, config, bridgeStartedAt: T0 }, T0 + s(20))
    expect(svc(after, 'compression-scheduler')).toMatchObject({
      status: 'unhealthy',
      message: 'no heartbeat received (expected within 20s of start)',
    })
  })

  it('without Docker, expects heartbeats from every service the config file declares', () => {
    const config = modelConfig({ services: { reducer: {} } })
    expect(svc(run({ docker: none, config, bridgeStartedAt: T0 }), 'reducer').status).toBe(
      'starting'
    )
  })

  it('uses the per-service timeout from the file over the label over the default', () => {
    const c = container('reducer', { labels: { heartbeatTimeoutMs: s(45) } })
    const hb = heartbeat('reducer', { instance: c.name, receivedAt: T0 })
    expect(svc(run({ containers: [c], heartbeats: [hb] }, T0 + s(44)), 'reducer').status).toBe(
      'healthy'
    )
    expect(svc(run({ containers: [c], heartbeats: [hb] }, T0 + s(45)), 'reducer').status).toBe(
      'unhealthy'
    )
    const config = modelConfig({ services: { reducer: { heartbeatTimeout: s(60) } } })
    expect(
      svc(run({ config, containers: [c], heartbeats: [hb] }, T0 + s(59)), 'reducer').status
    ).toBe('healthy')
  })

  it('forgets an instance stale for 10 x its timeout with no container behind it', () => {
    const hb = heartbeat('gone', { instance: 'x1', receivedAt: T0 })
    const almost = run({ docker: none, heartbeats: [hb] }, T0 + s(30) * 11 - 1)
    expect(almost.forget).toEqual([])
    expect(almost.nextDeadline).toBe(T0 + s(330))
    const later = run({ docker: none, heartbeats: [hb] }, T0 + s(330))
    expect(later.forget).toEqual(['gone/x1'])
    expect(later.services).toEqual([])
  })

  it('keeps a stale instance that has a container behind it', () => {
    const c = container('api')
    const hb = heartbeat('api', { instance: c.name, receivedAt: T0 })
    const j = run({ containers: [c], heartbeats: [hb] }, T0 + m(60))
    expect(j.forget).toEqual([])
    expect(svc(j, 'api').instances[0]?.status).toBe('unhealthy')
  })
})

describe('matching heartbeats to containers', () => {
  const c = container('query-scheduler', {
    id: `3f2a9c1b7d4e${'0'.repeat(52)}`,
    hostname: 'qs-host',
  })

  it.each([
    ['the full id', c.id],
    ['a 12-character id prefix', c.id.slice(0, 12)],
    ['the container name', c.name],
    ['a unique hostname', 'qs-host'],
  ])('merges a heartbeat naming %s into the container instance', (_desc, instance) => {
    const j = run({
      containers: [c],
      heartbeats: [
        heartbeat('query-scheduler', { instance, reported: 'unhealthy', error: 'queue stuck' }),
      ],
    })
    const s1 = svc(j, 'query-scheduler')
    expect(s1.instances).toHaveLength(1)
    expect(s1.instances[0]).toMatchObject({
      id: c.name,
      status: 'unhealthy',
      message: 'queue stuck',
    })
    expect(s1.instances[0]?.container?.id).toBe(c.id)
    expect(s1.instances[0]?.heartbeat?.last?.error).toBe('queue stuck')
  })

  it('does not match an id prefix shorter than 12 characters', () => {
    const j = run({
      containers: [c],
      heartbeats: [heartbeat('query-scheduler', { instance: c.id.slice(0, 11) })],
    })
    expect(svc(j, 'query-scheduler').instances.map((i) => i.id)).toEqual(
      [c.id.slice(0, 11), c.name].sort()
    )
  })

  it('does not match a hostname two containers share', () => {
    const a = container('worker', { hostname: 'same', number: 1 })
    const b = container('worker', { hostname: 'same', number: 2 })
    const j = run({ containers: [a, b], heartbeats: [heartbeat('worker', { instance: 'same' })] })
    expect(svc(j, 'worker').instances).toHaveLength(3)
  })

  it('calls a running container whose process stopped reporting unhealthy', () => {
    const hb = heartbeat('query-scheduler', { instance: c.name, receivedAt: T0 - s(31) })
    const j = run({ containers: [c], heartbeats: [hb] })
    expect(svc(j, 'query-scheduler').instances[0]).toMatchObject({
      status: 'unhealthy',
      message: 'no heartbeat for more than 30s (last at 09:59:29Z)',
    })
  })

  it('lets a heartbeat without an instance speak for the only container of its service', () => {
    const j = run({
      containers: [c],
      heartbeats: [heartbeat('query-scheduler', { instance: 'default' })],
    })
    expect(svc(j, 'query-scheduler').instances).toHaveLength(1)
  })

  it('keeps an unmatched heartbeat as an instance of its own', () => {
    const j = run({
      containers: [c],
      heartbeats: [heartbeat('query-scheduler', { instance: 'elsewhere' })],
    })
    expect(svc(j, 'query-scheduler').instances.map((i) => i.id)).toEqual(['elsewhere', c.name])
  })

  it('expects a heartbeat from each running container of a heartbeat service, with grace from its start', () => {
    const labelled = container('reducer', { labels: { heartbeat: true }, startedAt: T0 })
    const j = run({ containers: [labelled], bridgeStartedAt: T0 - m(10) }, T0 + s(29))
    expect(svc(j, 'reducer').instances[0]).toMatchObject({
      status: 'starting',
      heartbeat: { last: null, expected: true },
    })
    const late = run({ containers: [labelled], bridgeStartedAt: T0 - m(10) }, T0 + s(30))
    expect(svc(late, 'reducer').status).toBe('unhealthy')
  })

  it('says whether heartbeats are expected, before and after the first one, and for a volunteer', () => {
    const expected = container('reducer', { labels: { heartbeat: true } })
    const volunteer = container('webui')
    const j = run({
      containers: [expected, volunteer],
      heartbeats: [
        heartbeat('reducer', { instance: expected.name }),
        heartbeat('webui', { instance: volunteer.name }),
      ],
    })
    expect(svc(j, 'reducer').instances[0]?.heartbeat).toMatchObject({ expected: true })
    expect(svc(j, 'webui').instances[0]?.heartbeat).toMatchObject({ expected: false })
  })
})

describe('rolling up a service', () => {
  const w = (n: number, over: Partial<ContainerObservation> = {}) =>
    container('worker', { number: n, ...over })

  it.each<[string, Partial<ContainerObservation>[], string]>([
    ['all instances healthy', [{}, {}], 'healthy'],
    ['none unhealthy or unknown, some starting', [{}, { health: 'starting' }], 'starting'],
    ['some healthy, some unhealthy', [{}, { state: 'exited', exitCode: 1 }], 'degraded'],
    [
      'none healthy: the worst',
      [{ health: 'starting' }, { state: 'exited', exitCode: 1 }],
      'unhealthy',
    ],
    ['all unhealthy', [{ state: 'paused' }, { state: 'exited', exitCode: 2 }], 'unhealthy'],
  ])('%s', (_desc, overs, status) => {
    const j = run({ containers: overs.map((o, i) => w(i + 1, o)) })
    expect(svc(j, 'worker').status).toBe(status)
  })

  it('counts unknown like unhealthy: healthy + unknown is degraded', () => {
    const j = run({
      containers: [w(1)],
      heartbeats: [
        heartbeat('worker', { instance: 'remote', receivedAt: T0 - s(60) }),
        heartbeat('worker', { instance: 'remote2' }),
      ],
    })
    expect(svc(j, 'worker').status).toBe('degraded')
    expect(svc(j, 'worker').message).toBe(
      '1 of 3 instances unhealthy: no heartbeat for more than 30s (last at 09:59:00Z)'
    )
  })

  it('sorts services by name and instances by id', () => {
    const j = run({
      containers: [container('b', { number: 2 }), container('a'), container('b', { number: 1 })],
    })
    expect(j.services.map((x) => x.name)).toEqual(['a', 'b'])
    expect(svc(j, 'b').instances.map((i) => i.id)).toEqual(['proj-b-1', 'proj-b-2'])
  })

  it('does not report services labelled health-bridge.ignore=true', () => {
    const j = run({
      containers: [container('debug-shell', { labels: { ignore: true } }), container('api')],
    })
    expect(j.services.map((x) => x.name)).toEqual(['api'])
  })

  it('does not report services only named in depends_on with no container and no configuration', () => {
    const api = container('api', {
      dependsOn: [{ service: 'mcp-server', condition: 'service_started' }],
    })
    const j = run({ containers: [api] })
    expect(j.services.map((x) => x.name)).toEqual(['api'])
    expect(svc(j, 'api').dependsOn).toEqual(['mcp-server'])
  })

  it('does not report an optional configured service until something of it is seen', () => {
    const config = modelConfig({
      services: {
        'mcp-server': { optional: true, role: 'service' },
        'db-table-creator': { role: 'job', optional: true },
      },
    })
    expect(run({ config }).services).toEqual([])
    expect(run({ config, docker: DOCKER_DISABLED }).services).toEqual([])
    const seen = run({
      config,
      containers: [container('db-table-creator', { state: 'exited', exitCode: 0 })],
    })
    expect(svc(seen, 'db-table-creator')).toMatchObject({ kind: 'job', status: 'healthy' })
    expect(seen.services.map((x) => x.name)).toEqual(['db-table-creator'])
  })

  it('reports a configured service that has no container as unhealthy', () => {
    const j = run({
      config: modelConfig({ services: { 'garbage-collector': { critical: false } } }),
    })
    expect(svc(j, 'garbage-collector')).toMatchObject({
      status: 'unhealthy',
      message: 'no container in compose project proj',
    })
  })

  it('ignores one-off `docker compose run` containers', () => {
    const j = run({
      containers: [
        container('api'),
        container('api', { oneoff: true, state: 'exited', exitCode: 1, number: 9 }),
      ],
    })
    expect(svc(j, 'api')).toMatchObject({ status: 'healthy' })
    expect(svc(j, 'api').instances).toHaveLength(1)
  })
})

describe('overall status', () => {
  const down = { state: 'exited' as const, exitCode: 1 }
  it.each<[string, ContainerObservation[], string]>([
    ['all healthy', [container('a'), container('b')], 'healthy'],
    ['a critical service unhealthy', [container('a', down), container('b')], 'unhealthy'],
    [
      'a non-critical service unhealthy',
      [container('a', { ...down, labels: { critical: false } }), container('b')],
      'degraded',
    ],
    [
      'a service degraded',
      [container('a', { number: 1 }), container('a', { ...down, number: 2 }), container('b')],
      'degraded',
    ],
    ['a service starting', [container('a', { health: 'starting' }), container('b')], 'starting'],
    ['nothing at all', [], 'healthy'],
  ])('%s', (_desc, containers, status) => {
    expect(run({ containers }).status).toBe(status)
  })

  it('is unknown (503) when a critical service is unknown: a blind bridge must not answer 200', () => {
    const j = run({
      containers: [container('a')],
      docker: following({ state: 'disconnected', unreachableSince: T0 - m(1) }),
    })
    expect(svc(j, 'a').status).toBe('unknown')
    expect(j.status).toBe('unknown')
  })

  it('is degraded when only a non-critical service is unknown', () => {
    const j = run({
      containers: [container('b', { labels: { critical: false } })],
      heartbeats: [heartbeat('a')],
      docker: following({ state: 'disconnected', unreachableSince: T0 - m(1) }),
    })
    expect(svc(j, 'a').status).toBe('healthy')
    expect(svc(j, 'b').status).toBe('unknown')
    expect(j.status).toBe('degraded')
  })

  it('is at best starting until the first Docker sync completes', () => {
    expect(run({ docker: following({ state: 'syncing', synced: false }) }).status).toBe('starting')
  })

  it('lets the config file make a service non-critical', () => {
    const config = modelConfig({ services: { a: { critical: false } } })
    expect(run({ config, containers: [container('a', down)] }).status).toBe('degraded')
  })
})

describe('impactedBy', () => {
  const dep = (service: string) => ({ service, condition: 'service_healthy' })

  it('lists unhealthy dependencies, direct and transitive, and nothing healthy', () => {
    const j = run({
      containers: [
        container('database', { health: 'unhealthy' }),
        container('queue'),
        container('db-table-creator', {
          state: 'exited',
          exitCode: 0,
          dependsOn: [dep('database')],
          labels: { role: 'job' },
        }),
        container('query-scheduler', { dependsOn: [dep('db-table-creator'), dep('queue')] }),
        container('webui', { dependsOn: [dep('query-scheduler')] }),
      ],
    })
    expect(svc(j, 'query-scheduler').impactedBy).toEqual(['database'])
    expect(svc(j, 'webui').impactedBy).toEqual(['database'])
    expect(svc(j, 'database').impactedBy).toEqual([])
    expect(svc(j, 'queue').impactedBy).toEqual([])
  })

  it('survives dependency cycles', () => {
    const j = run({
      containers: [
        container('a', { dependsOn: [dep('b')], state: 'exited', exitCode: 1 }),
        container('b', { dependsOn: [dep('a')] }),
      ],
    })
    expect(svc(j, 'b').impactedBy).toEqual(['a'])
    expect(svc(j, 'a').impactedBy).toEqual([])
  })

  it('takes dependencies from the config file over the compose label', () => {
    const config = modelConfig({ services: { api: { dependsOn: ['cache'] } } })
    const j = run({
      config,
      containers: [
        container('api', { dependsOn: [dep('database')] }),
        container('cache', { state: 'paused' }),
        container('database', { state: 'paused' }),
      ],
    })
    expect(svc(j, 'api')).toMatchObject({ dependsOn: ['cache'], impactedBy: ['cache'] })
  })
})
