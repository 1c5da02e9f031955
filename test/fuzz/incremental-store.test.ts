/**
 * The incremental store against a from-scratch judgement: the same random sequences of
 * container upserts, removals and resyncs, heartbeats, deregistrations, Docker source states,
 * clock advances and reads go to both, and after every read they must agree on every status,
 * message, `impactedBy`, instance, the ETag and the history; after a read that settles
 * bookkeeping too, on the document's bytes.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { T0 } from '../helpers/builders.js'
import { drawnOnly } from '../helpers/drawn.js'
import { FromScratch } from '../helpers/from-scratch.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { matches } from '../../src/model/heartbeat-match.js'
import type {
  ContainerObservation,
  ContainerState,
  DockerSourceStatus,
  HeartbeatObservation,
  ReportedStatus,
} from '../../src/model/observations.js'
import { DOCKER_DISABLED } from '../../src/model/observations.js'
import { HealthStore, type StoreConfig } from '../../src/store/health-store.js'
import type { HistoryOptions } from '../../src/store/history.js'
import { PeerCopies } from '../../src/store/peers.js'
import type {
  HealthDocument,
  InstanceView,
  PeerSourceView,
  ServiceView,
} from '../../src/wire/health-document.js'

import { fuzzParams } from './settings.js'

const CONFIG: StoreConfig = {
  bridgeName: 'host-a',
  heartbeatTimeoutMs: 10_000,
  startupGraceMs: 5_000,
  crashloopRestarts: 2,
  crashloopWindowMs: 60_000,
  crashloopStableAfterMs: 20_000,
  dockerStaleAfterMs: 3_000,
  maxInstances: 1000,
  peers: [{ name: 'w2', url: 'http://w2:8080' }],
  peerStaleAfterMs: 4_000,
  services: {
    db: { critical: true },
    worker: { heartbeat: true, dependsOn: ['db', 'queue'] },
    seeder: { role: 'job' },
    queue: { critical: false },
  },
}
const HISTORY: HistoryOptions = { capacity: 60, flapWindowMs: 30_000, flapTransitions: 3 }

/** Container slots: a service and replica number each; generations give recreated containers. */
const SLOTS = [
  { service: 'api', n: 1 },
  { service: 'api', n: 2 },
  { service: 'db', n: 1 },
  { service: 'init', n: 1 },
  { service: 'worker', n: 1 },
  { service: 'queue', n: 1 },
  { service: 'api', n: 9, oneoff: true },
] as const

function idOf(slot: number, gen: number): string {
  return `${slot}${gen}`.padEnd(12, 'f') + 'a'.repeat(52)
}
/** Docker keeps names unique: a recreated container gets the name once the old one is gone. */
const nameOf = (slot: number, gen = 0) =>
  `proj-${SLOTS[slot]?.service ?? 'x'}-${SLOTS[slot]?.n ?? 0}${gen === 0 ? '' : `-${gen}`}`

const STATES: ContainerState[] = [
  'created',
  'running',
  'running',
  'running',
  'paused',
  'restarting',
  'exited',
  'dead',
]

const containerSpec = fc.record({
  slot: fc.integer({ min: 0, max: SLOTS.length - 1 }),
  gen: fc.integer({ min: 0, max: 1 }),
  state: fc.constantFrom(...STATES),
  health: fc.constantFrom('none', 'starting', 'healthy', 'unhealthy' as const),
  failingStreak: fc.integer({ min: 0, max: 3 }),
  exitCode: fc.constantFrom(null, 0, 1, 137),
  oomKilled: fc.boolean(),
  restartsAgo: fc.array(fc.integer({ min: 0, max: 90_000 }), { maxLength: 3 }),
  startedAgo: fc.integer({ min: 0, max: 40_000 }),
  job: fc.boolean(),
  heartbeat: fc.boolean(),
  critical: fc.option(fc.boolean(), { nil: undefined }),
  ignore: fc.boolean().map((b) => b && Math.random() < 0.2),
  awaitInit: fc.boolean(),
  sharedHostname: fc.boolean(),
})
type ContainerSpec = typeof containerSpec extends fc.Arbitrary<infer T> ? T : never

const instanceOf = fc.oneof(
  fc.constantFrom('default', 'i1', 'i2'),
  fc.integer({ min: 0, max: SLOTS.length - 1 }).map(nameOf),
  fc.integer({ min: 0, max: SLOTS.length - 1 }).map((slot) => idOf(slot, 0).slice(0, 12)),
  fc.constant('shared-host')
)

const op = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('beat' as const),
      service: fc.constantFrom('api', 'db', 'worker', 'seeder', 'solo', 'init'),
      instance: instanceOf,
      reported: fc.constantFrom<ReportedStatus>(
        'healthy',
        'healthy',
        'unhealthy',
        'succeeded',
        'failed'
      ),
      error: fc.option(fc.constantFrom('broken', 'disk full'), { nil: null }),
      details: fc.option(fc.record({ q: fc.integer({ min: 0, max: 3 }) }), { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('unbeat' as const),
      service: fc.constantFrom('api', 'worker', 'solo'),
      instance: instanceOf,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('upsert' as const), spec: containerSpec }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('remove' as const),
      slot: fc.integer({ min: 0, max: SLOTS.length - 1 }),
      gen: fc.integer({ min: 0, max: 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      specs: fc.array(containerSpec, { maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('docker' as const),
      state: fc.constantFrom(
        'following',
        'following',
        'disconnected',
        'syncing',
        'connecting',
        'disabled' as const
      ),
      synced: fc.boolean(),
      downAgo: fc.integer({ min: 0, max: 6000 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 1500 }),
        fc.integer({ min: 1000, max: 25_000 })
      ),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), settle: fc.boolean() }) }
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

/** What peer w2 may report: its own instances, ones relayed from w3, and echoes of ours. */
const remoteInstance = fc.record({
  id: fc.constantFrom('proj-api-1', 'proj-worker-1', 'r1'),
  host: fc.constantFrom('w2', 'w2', 'w3', 'host-a'),
  status: fc.constantFrom('healthy', 'healthy', 'unhealthy', 'starting', 'unknown' as const),
  running: fc.boolean(),
})
const remoteService = fc.record({
  name: fc.constantFrom('api', 'worker', 'seeder', 'remote-only'),
  kind: fc.constantFrom('service', 'service', 'job' as const),
  critical: fc.boolean(),
  dependsOn: fc.subarray(['db', 'queue', 'api']),
  instances: fc.uniqueArray(remoteInstance, { maxLength: 3, selector: (i) => `${i.id}@${i.host}` }),
})
type RemoteSpec = typeof remoteService extends fc.Arbitrary<infer T> ? T : never
const peerOp = fc.oneof(
  fc.record({
    kind: fc.constant('peer-doc' as const),
    services: fc.uniqueArray(remoteService, { maxLength: 3, selector: (x) => x.name }),
  }),
  fc.record({
    kind: fc.constant('peer-delta' as const),
    services: fc.uniqueArray(remoteService, { maxLength: 2, selector: (x) => x.name }),
    removed: fc.subarray(['api', 'worker', 'seeder', 'remote-only']),
  }),
  fc.record({
    kind: fc.constant('peer-state' as const),
    state: fc.constantFrom('following', 'disconnected', 'connecting' as const),
    downAgo: fc.integer({ min: 0, max: 6000 }),
  })
)
type PeerOp = typeof peerOp extends fc.Arbitrary<infer T> ? T : never
const anyOp = fc.oneof({ weight: 5, arbitrary: op }, { weight: 1, arbitrary: peerOp })

function serviceOf(spec: RemoteSpec, now: number): ServiceView {
  const at = new Date(now).toISOString()
  const instances = spec.instances.map((i): InstanceView => ({
    id: i.id,
    host: i.host,
    status: i.status,
    message: `${i.status} on ${i.host}`,
    docker: {
      containerId: `${i.id}-${i.host}`.padEnd(64, '0'),
      name: i.id,
      state: i.running ? 'running' : 'exited',
      health: 'none',
      failingStreak: 0,
      exitCode: i.running ? null : 0,
      oomKilled: false,
      restartCount: 0,
      recentRestarts: 0,
      startedAt: at,
      finishedAt: null,
      lastProbeOutput: null,
    },
    heartbeat: null,
  }))
  return {
    name: spec.name,
    status: instances[0]?.status ?? 'unhealthy',
    kind: spec.kind,
    critical: spec.critical,
    message: instances.length === 0 ? 'no container in compose project proj' : 'as judged on w2',
    since: at,
    flapping: false,
    dependsOn: spec.dependsOn,
    impactedBy: [],
    job: spec.kind === 'job' ? { state: 'running', exitCode: null } : null,
    instances,
  }
}

function peerDocument(services: ServiceView[], now: number): HealthDocument {
  const at = new Date(now).toISOString()
  const peers: PeerSourceView[] = []
  return {
    status: 'healthy',
    checkedAt: at,
    bridge: {
      name: 'w2',
      version: 't',
      startedAt: at,
      sources: {
        docker: {
          state: 'following',
          project: 'proj',
          lastEventAt: null,
          unreachableSince: null,
          detail: null,
        },
        heartbeat: { instances: 0 },
        peers,
      },
    },
    services: [...services].sort((a, b) => (a.name < b.name ? -1 : 1)),
  }
}

function containerOf(spec: ContainerSpec, now: number): ContainerObservation {
  const slot = SLOTS[spec.slot] ?? SLOTS[0]
  const startedAt = now - spec.startedAgo
  return {
    id: idOf(spec.slot, spec.gen),
    name: nameOf(spec.slot, spec.gen),
    service: slot.service,
    number: slot.n,
    hostname: spec.sharedHostname ? 'shared-host' : `${slot.service}_${slot.n}`,
    oneoff: 'oneoff' in slot,
    state: spec.state,
    health: spec.health,
    failingStreak: spec.failingStreak,
    lastProbeOutput: spec.health === 'unhealthy' ? 'connection refused' : null,
    lastProbeExitCode: spec.health === 'unhealthy' ? (spec.failingStreak > 1 ? 1 : 0) : null,
    exitCode: spec.exitCode,
    oomKilled: spec.oomKilled,
    restartCount: spec.restartsAgo.length,
    restarts: spec.restartsAgo.map((ago) => now - ago).sort((a, b) => a - b),
    createdAt: startedAt - 1000 - spec.gen,
    startedAt,
    finishedAt: spec.state === 'exited' || spec.state === 'dead' ? now : null,
    labels: {
      ...(spec.job ? { role: 'job' as const } : {}),
      ...(spec.heartbeat ? { heartbeat: true } : {}),
      ...(spec.critical === undefined ? {} : { critical: spec.critical }),
      ...(spec.ignore ? { ignore: true } : {}),
    },
    dependsOn:
      slot.service === 'api'
        ? [
            { service: 'db', condition: 'service_healthy' },
            ...(spec.awaitInit
              ? [{ service: 'init', condition: 'service_completed_successfully' }]
              : []),
          ]
        : [],
    ips: [],
  }
}

function run(ops: readonly (Op | PeerOp)[]): void {
  let now = T0
  const clock = { now: () => now }
  const { logger } = memoryLogger('silent')
  const store = new HealthStore({ config: CONFIG, clock, logger, version: 't', history: HISTORY })
  const peerStatus = {
    name: 'w2',
    url: 'http://w2:8080',
    state: 'connecting' as const,
    lastEventAt: null,
    unreachableSince: T0,
    detail: null,
    synced: false,
    triedSince: T0,
  }
  const copies = new PeerCopies(CONFIG.bridgeName, [peerStatus], CONFIG.peerStaleAfterMs ?? 0)
  const reference = new FromScratch(CONFIG, logger, 't', HISTORY, copies)
  // The reference's own copy of the observations, kept by the rules the store promises.
  const containers = new Map<string, ContainerObservation>()
  const heartbeats = new Map<string, HeartbeatObservation>()
  let docker: DockerSourceStatus = DOCKER_DISABLED
  try {
    for (const o of ops) {
      switch (o.kind) {
        case 'beat': {
          const input = {
            service: o.service,
            instance: o.instance,
            reported: o.error ? ('unhealthy' as const) : o.reported,
            error: o.error,
            details: o.details,
            sentAt: null,
            remoteAddress: null,
          }
          const result = store.recordHeartbeat(input)
          expect(result.ok).toBe(true)
          const key = `${o.service}/${o.instance}`
          heartbeats.set(key, {
            service: o.service,
            instance: o.instance,
            receivedAt: now,
            reported: input.reported,
            error: input.error,
            details: input.details,
            clockSkewSeconds: null,
            remoteAddress: null,
          })
          break
        }
        case 'unbeat':
          expect(store.deleteHeartbeat(o.service, o.instance)).toBe(
            heartbeats.delete(`${o.service}/${o.instance}`)
          )
          break
        case 'upsert': {
          const c = containerOf(o.spec, now)
          store.upsertContainer(c)
          containers.set(c.id, c)
          break
        }
        case 'remove': {
          const id = idOf(o.slot, o.gen)
          const gone = containers.get(id)
          store.removeContainer(id)
          containers.delete(id)
          if (gone) {
            for (const [key, hb] of heartbeats) {
              if (hb.service === gone.service && matches(hb.instance, gone, true))
                heartbeats.delete(key)
            }
          }
          break
        }
        case 'replace': {
          const list = [
            ...new Map(
              o.specs.map((spec) => {
                const c = containerOf(spec, now)
                return [c.id, c] as const
              })
            ).values(),
          ]
          store.replaceContainers(list)
          containers.clear()
          for (const c of list) containers.set(c.id, c)
          break
        }
        case 'docker':
          docker =
            o.state === 'disabled'
              ? DOCKER_DISABLED
              : {
                  state: o.state,
                  project: 'proj',
                  lastEventAt: now,
                  unreachableSince: o.state === 'following' ? null : now - o.downAgo,
                  synced: o.state === 'following' || o.synced,
                  detail: o.state === 'following' ? null : 'down',
                }
          store.setDockerStatus(docker)
          break
        case 'advance':
          now += o.ms
          break
        case 'peer-doc': {
          const doc = peerDocument(
            o.services.map((x) => serviceOf(x, now)),
            now
          )
          store.replacePeerDocument('w2', doc)
          copies.replace('w2', doc, new Set())
          break
        }
        case 'peer-delta': {
          const changed = o.services.map((x) => serviceOf(x, now))
          const removed = o.removed.filter((n) => !changed.some((c) => c.name === n))
          const { status, checkedAt, bridge } = peerDocument([], now)
          const delta = { status, checkedAt, bridge, services: changed, removed }
          store.applyPeerDelta('w2', delta)
          copies.apply('w2', delta, new Set())
          break
        }
        case 'peer-state': {
          const following = o.state === 'following'
          const status = {
            ...peerStatus,
            state: o.state,
            lastEventAt: now,
            unreachableSince: following ? null : now - o.downAgo,
            synced: true,
            detail: following ? null : 'connection refused',
          }
          store.setPeerStatus(status)
          copies.setStatus(status)
          break
        }
        case 'read': {
          const got = o.settle ? store.settle() : store.current()
          const want = reference.render(
            {
              containers: containers.values(),
              heartbeats: heartbeats.values(),
              docker,
              bridgeStartedAt: T0,
            },
            heartbeats.size,
            now
          )
          for (const key of want.forget) heartbeats.delete(key)
          expect(got.etag).toBe(want.etag)
          // checkedAt is when the store last re-judged something, which only the store knows.
          const checkedAt = `"checkedAt":${JSON.stringify(got.doc.checkedAt)}`
          if (o.settle) {
            expect(got.body.toString()).toBe(want.body.replace(/"checkedAt":"[^"]*"/, checkedAt))
          } else expect(drawnOnly(got.doc)).toEqual(drawnOnly(want.doc))
          expect(Date.parse(got.doc.checkedAt)).toBeLessThanOrEqual(now)
          expect(store.transitions()).toEqual(reference.history.list())
          expect(store.heartbeatInstances()).toBe(heartbeats.size)
          break
        }
      }
    }
  } finally {
    store.close()
  }
}

describe('the incremental store equals a from-scratch judgement', () => {
  it('after any sequence of observations, clock advances and reads', () => {
    fc.assert(
      fc.property(fc.array(anyOp, { minLength: 1, maxLength: 60 }), (ops) => {
        run([...ops, { kind: 'read', settle: false }, { kind: 'read', settle: true }])
      }),
      fuzzParams(300)
    )
  })
})
