import { afterEach, describe, expect, it } from 'vitest'

import { T0, container, following, modelConfig, s } from '../../test/helpers/builders.js'
import { memoryLogger } from '../../test/helpers/log-sink.js'
import type { PeerStatus } from '../model/observations.js'
import type { HealthDocument, InstanceView, ServiceView } from '../wire/health-document.js'

import { HealthStore } from './health-store.js'

const AT = new Date(T0).toISOString()

function instance(id: string, host: string, over: Partial<InstanceView> = {}): InstanceView {
  return {
    id,
    host,
    status: 'healthy',
    message: 'running',
    docker: {
      containerId: `${host}-${id}`.padEnd(64, '0'),
      name: id,
      state: 'running',
      health: 'none',
      failingStreak: 0,
      exitCode: null,
      oomKilled: false,
      restartCount: 0,
      recentRestarts: 0,
      startedAt: AT,
      finishedAt: null,
      lastProbeOutput: null,
    },
    heartbeat: null,
    ...over,
  }
}

function service(
  name: string,
  instances: InstanceView[],
  over: Partial<ServiceView> = {}
): ServiceView {
  return {
    name,
    status: instances.every((i) => i.status === 'healthy') ? 'healthy' : 'unhealthy',
    kind: 'service',
    critical: true,
    message: 'as the peer judged it',
    since: AT,
    flapping: false,
    dependsOn: [],
    impactedBy: [],
    job: null,
    instances,
    ...over,
  }
}

function document(host: string, services: ServiceView[]): HealthDocument {
  return {
    status: 'healthy',
    checkedAt: AT,
    bridge: {
      name: host,
      version: 't',
      startedAt: AT,
      sources: {
        docker: {
          state: 'following',
          project: 'clp',
          lastEventAt: null,
          unreachableSince: null,
          detail: null,
        },
        heartbeat: { instances: 0 },
        peers: [],
      },
    },
    services,
  }
}

const stores: HealthStore[] = []
afterEach(() => {
  for (const st of stores.splice(0)) st.close()
})

function hub(peers = ['w1', 'w2']) {
  let now = T0
  const { logger } = memoryLogger('silent')
  const store = new HealthStore({
    config: {
      ...modelConfig({ bridgeName: 'hub' }),
      maxInstances: 100,
      peers: peers.map((name) => ({ name, url: `http://${name}:8080` })),
      peerStaleAfterMs: s(10),
    },
    clock: { now: () => now },
    logger,
    version: 't',
  })
  stores.push(store)
  const follow = (name: string, over: Partial<PeerStatus> = {}) => {
    store.setPeerStatus({
      name,
      url: `http://${name}:8080`,
      state: 'following',
      lastEventAt: now,
      unreachableSince: null,
      detail: null,
      synced: true,
      triedSince: T0,
      ...over,
    })
  }
  return {
    store,
    follow,
    advance: (ms: number) => {
      now += ms
    },
    now: () => now,
    svc: (name: string) => store.current().doc.services.find((x) => x.name === name),
  }
}

describe('a hub', () => {
  it('rolls one service up over the instances of every host, the same name on two hosts staying two', () => {
    const h = hub()
    h.follow('w1')
    h.follow('w2')
    h.store.replacePeerDocument(
      'w1',
      document('w1', [service('query-worker', [instance('clp-query-worker-1', 'w1')])])
    )
    h.store.replacePeerDocument(
      'w2',
      document('w2', [
        service('query-worker', [
          instance('clp-query-worker-1', 'w2', {
            status: 'unhealthy',
            message: 'exited with code 1',
          }),
        ]),
      ])
    )
    const worker = h.svc('query-worker')
    expect(worker?.status).toBe('degraded')
    expect(worker?.instances.map((i) => [i.id, i.host, i.status])).toEqual([
      ['clp-query-worker-1@w1', 'w1', 'healthy'],
      ['clp-query-worker-1@w2', 'w2', 'unhealthy'],
    ])
    expect(h.store.instance('query-worker', 'clp-query-worker-1@w2')?.message).toBe(
      'exited with code 1'
    )
    expect(h.store.current().doc.status).toBe('degraded')
  })

  it('merges its own containers with the peers, and names impact across hosts', () => {
    const h = hub(['w1'])
    h.follow('w1')
    h.store.setDockerStatus(following({ project: 'clp' }))
    h.store.replaceContainers([
      container('reducer', {
        dependsOn: [{ service: 'query-scheduler', condition: 'service_healthy' }],
      }),
      container('query-scheduler', { state: 'exited', exitCode: 1 }),
    ])
    h.store.replacePeerDocument(
      'w1',
      document('w1', [
        service('reducer', [instance('clp-reducer-1', 'w1')], { dependsOn: ['results-cache'] }),
      ])
    )
    const reducer = h.svc('reducer')
    expect(reducer?.instances.map((i) => i.host).sort()).toEqual(['hub', 'w1'])
    expect(reducer?.dependsOn).toEqual(['query-scheduler', 'results-cache'])
    expect(reducer?.impactedBy).toEqual(['query-scheduler'])
  })

  it("turns a lost peer's instances unknown exactly PEER_STALE_AFTER after it was last heard", () => {
    const h = hub(['w1'])
    h.follow('w1')
    h.store.replacePeerDocument(
      'w1',
      document('w1', [service('compression-worker', [instance('cw-1', 'w1')])])
    )
    expect(h.svc('compression-worker')?.status).toBe('healthy')
    const heardAt = h.now()
    h.advance(s(2))
    h.follow('w1', {
      state: 'disconnected',
      unreachableSince: heardAt,
      detail: 'connect ECONNREFUSED',
    })
    h.advance(s(8) - 1)
    expect(h.svc('compression-worker')?.status).toBe('healthy')
    expect(h.store.current().doc.status).toBe('degraded')
    h.advance(1)
    const lost = h.svc('compression-worker')
    expect(lost?.status).toBe('unknown')
    expect(lost?.instances[0]?.message).toBe('host w1 unreachable since 10:00:00Z')
    expect(h.store.current().doc.status).toBe('unknown')
    expect(h.store.current().httpStatus).toBe(503)

    h.follow('w1')
    h.store.replacePeerDocument(
      'w1',
      document('w1', [service('compression-worker', [instance('cw-1', 'w1')])])
    )
    expect(h.svc('compression-worker')?.status).toBe('healthy')
    expect(h.store.current().doc.status).toBe('healthy')
  })

  it('keeps the overall status below healthy while a peer was never reached', () => {
    const h = hub(['w1'])
    expect(h.store.current().doc.status).toBe('degraded')
    expect(h.store.current().doc.bridge.sources.peers).toEqual([
      expect.objectContaining({ name: 'w1', state: 'connecting', url: 'http://w1:8080' }),
    ])
  })

  it('ignores what a peer reports from the hub itself, so hubs that follow each other do not echo', () => {
    const h = hub(['other-hub'])
    h.follow('other-hub')
    h.store.recordHeartbeat({
      service: 'api',
      instance: 'a1',
      reported: 'healthy',
      error: null,
      details: null,
      sentAt: null,
      remoteAddress: null,
    })
    h.store.replacePeerDocument(
      'other-hub',
      document('other-hub', [
        service('api', [{ ...instance('a1', 'hub'), docker: null }, instance('a2', 'other-hub')]),
      ])
    )
    expect(h.svc('api')?.instances.map((i) => i.id)).toEqual(['a1', 'a2@other-hub'])
  })

  it('takes an instance from the peer that observed it when it follows that peer directly', () => {
    const h = hub(['w1', 'relay'])
    h.follow('w1')
    h.follow('relay')
    h.store.replacePeerDocument('w1', document('w1', [service('api', [instance('api-1', 'w1')])]))
    h.store.replacePeerDocument(
      'relay',
      document('relay', [service('api', [instance('api-1@w1', 'w1', { status: 'unhealthy' })])])
    )
    expect(h.svc('api')?.instances.map((i) => [i.id, i.status])).toEqual([['api-1@w1', 'healthy']])
  })

  it('judges a job by its most recent run across hosts', () => {
    const h = hub(['w1', 'w2'])
    h.follow('w1')
    h.follow('w2')
    const exited = (at: string, exitCode: number): Partial<InstanceView> => {
      const docker = instance('x', 'y').docker
      if (!docker) throw new Error('the builder makes a docker part')
      return { docker: { ...docker, state: 'exited', exitCode, startedAt: at } }
    }
    h.store.replacePeerDocument(
      'w1',
      document('w1', [
        service(
          'db-table-creator',
          [
            instance('init-1', 'w1', {
              status: 'unhealthy',
              ...exited('2026-11-21T09:00:00.000Z', 1),
            }),
          ],
          { kind: 'job' }
        ),
      ])
    )
    h.store.replacePeerDocument(
      'w2',
      document('w2', [
        service(
          'db-table-creator',
          [
            instance('init-1', 'w2', {
              message: 'completed successfully',
              ...exited('2026-11-21T09:30:00.000Z', 0),
            }),
          ],
          { kind: 'job' }
        ),
      ])
    )
    expect(h.svc('db-table-creator')).toMatchObject({
      kind: 'job',
      status: 'healthy',
      message: 'completed successfully',
      job: { state: 'succeeded', exitCode: 0 },
    })
  })

  it('keeps a heartbeat to the hub apart when the container name it names is on two hosts', () => {
    const h = hub(['w1', 'w2'])
    h.follow('w1')
    h.follow('w2')
    const worker = (host: string) =>
      document(host, [service('query-worker', [instance('clp-query-worker-1', host)])])
    h.store.replacePeerDocument('w1', worker('w1'))
    h.store.replacePeerDocument('w2', worker('w2'))
    const beat = (instance: string) =>
      h.store.recordHeartbeat({
        service: 'query-worker',
        instance,
        reported: 'unhealthy',
        error: 'stuck',
        details: null,
        sentAt: null,
        remoteAddress: null,
      })
    beat('clp-query-worker-1')
    const ids = h.svc('query-worker')?.instances.map((i) => [i.id, i.status])
    expect(ids).toEqual([
      ['clp-query-worker-1', 'unhealthy'],
      ['clp-query-worker-1@w1', 'healthy'],
      ['clp-query-worker-1@w2', 'healthy'],
    ])
    // By container id it is never ambiguous.
    beat('w2-clp-query-worker-1'.padEnd(12, '0').slice(0, 12))
    expect(h.store.instance('query-worker', 'clp-query-worker-1@w2')?.status).toBe('unhealthy')
  })

  it('merges a heartbeat sent to the hub with the peer container it names', () => {
    const h = hub(['w1'])
    h.follow('w1')
    h.store.replacePeerDocument(
      'w1',
      document('w1', [service('reducer', [instance('clp-reducer-1', 'w1')])])
    )
    const result = h.store.recordHeartbeat({
      service: 'reducer',
      instance: 'clp-reducer-1',
      reported: 'unhealthy',
      error: 'cannot reach the scheduler',
      details: null,
      sentAt: null,
      remoteAddress: null,
    })
    expect(result.ok).toBe(true)
    const reducer = h.svc('reducer')
    expect(reducer?.instances).toHaveLength(1)
    expect(reducer?.instances[0]).toMatchObject({
      id: 'clp-reducer-1@w1',
      status: 'unhealthy',
      message: 'cannot reach the scheduler',
      heartbeat: { error: 'cannot reach the scheduler' },
    })
  })
})
