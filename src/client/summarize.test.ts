import { describe, expect, it } from 'vitest'

import type { Status } from '../model/status.js'
import type { HealthDocument, ServiceView } from '../wire/health-document.js'

import { listNames, summarize } from './summarize.js'

const AT = '2026-11-21T10:00:00.000Z'

function svc(name: string, status: Status, over: Partial<ServiceView> = {}): ServiceView {
  return {
    name,
    status,
    kind: 'service',
    critical: true,
    message: `${name} is ${status}`,
    since: AT,
    flapping: false,
    dependsOn: [],
    impactedBy: [],
    job: null,
    instances: [
      { id: 'default', host: 'h', status, message: status, docker: null, heartbeat: null },
    ],
    ...over,
  }
}

function doc(services: ServiceView[], status: Status = 'unhealthy'): HealthDocument {
  return {
    status,
    checkedAt: AT,
    bridge: {
      name: 'h',
      version: 't',
      startedAt: AT,
      sources: {
        docker: {
          state: 'disabled',
          project: null,
          lastEventAt: null,
          unreachableSince: null,
          detail: null,
        },
        heartbeat: { instances: services.length },
        peers: [],
      },
    },
    services,
  }
}

describe('summarize', () => {
  it('names the root cause and shows services that depend on it as impacted, not as more failures', () => {
    const s = summarize(
      doc([
        svc('database', 'unhealthy'),
        svc('query-scheduler', 'unhealthy', { dependsOn: ['database'], impactedBy: ['database'] }),
        svc('query-worker', 'degraded', {
          dependsOn: ['query-scheduler'],
          impactedBy: ['database', 'query-scheduler'],
        }),
        svc('webui', 'healthy', { dependsOn: ['database'], impactedBy: ['database'] }),
        svc('queue', 'healthy'),
      ])
    )
    expect(s.rootCauses.map((r) => r.name)).toEqual(['database'])
    const by = new Map(s.services.map((x) => [x.name, x]))
    expect(by.get('database')).toMatchObject({
      role: 'root-cause',
      impacts: ['query-scheduler', 'query-worker', 'webui'],
    })
    expect(by.get('query-scheduler')).toMatchObject({ role: 'impacted', rootCauses: ['database'] })
    // query-scheduler is itself unhealthy, but only because of the database: the root is named.
    expect(by.get('query-worker')).toMatchObject({ role: 'impacted', rootCauses: ['database'] })
    expect(by.get('webui')).toMatchObject({ role: 'at-risk', rootCauses: ['database'] })
    expect(by.get('queue')).toMatchObject({ role: 'ok', rootCauses: [] })
    expect(s.headline).toBe('database is unhealthy; 2 services impacted (2 of 5 healthy)')
  })

  it('orders worst first: by status, root causes before what they impact, critical first, then name', () => {
    const s = summarize(
      doc([
        svc('a-impacted', 'unhealthy', { impactedBy: ['z-root'] }),
        svc('b-fine', 'healthy'),
        svc('c-starting', 'starting'),
        svc('d-noncritical-root', 'unhealthy', { critical: false }),
        svc('e-degraded', 'degraded'),
        svc('z-root', 'unhealthy'),
        svc('f-unknown', 'unknown'),
      ])
    )
    expect(s.services.map((x) => x.name)).toEqual([
      'z-root',
      'd-noncritical-root',
      'a-impacted',
      'f-unknown',
      'c-starting',
      'e-degraded',
      'b-fine',
    ])
    expect(s.rootCauses.map((x) => x.name)).toEqual(['z-root', 'd-noncritical-root'])
  })

  it('counts services and instances per status', () => {
    const s = summarize(
      doc([
        svc('api', 'degraded', {
          instances: [
            { id: 'a', host: 'h', status: 'healthy', message: '', docker: null, heartbeat: null },
            { id: 'b', host: 'h', status: 'unhealthy', message: '', docker: null, heartbeat: null },
            { id: 'c', host: 'h', status: 'healthy', message: '', docker: null, heartbeat: null },
          ],
        }),
        svc('db', 'healthy'),
      ])
    )
    expect(s.total).toBe(2)
    expect(s.counts).toEqual({ healthy: 1, degraded: 1, starting: 0, unknown: 0, unhealthy: 0 })
    const api = s.services.find((x) => x.name === 'api')
    expect(api?.instances.total).toBe(3)
    expect(api?.instances.byStatus).toMatchObject({ healthy: 2, unhealthy: 1 })
    expect(s.headline).toBe('api is degraded (1 of 2 healthy)')
  })

  it('says plainly when everything is fine, or nothing has reported yet', () => {
    expect(summarize(doc([svc('a', 'healthy'), svc('b', 'healthy')], 'healthy')).headline).toBe(
      'All 2 services healthy'
    )
    expect(summarize(doc([], 'healthy')).headline).toBe('No services reported yet')
    expect(summarize(doc([svc('a', 'starting'), svc('b', 'starting')], 'starting')).headline).toBe(
      'a and b are starting (0 of 2 healthy)'
    )
  })

  it('names every broken dependency when broken services depend on each other in a cycle', () => {
    const s = summarize(
      doc([
        svc('a', 'unhealthy', { dependsOn: ['b'], impactedBy: ['b'] }),
        svc('b', 'unhealthy', { dependsOn: ['a'], impactedBy: ['a'] }),
      ])
    )
    expect(s.rootCauses).toEqual([])
    expect(s.services.map((x) => [x.name, x.role, x.rootCauses])).toEqual([
      ['a', 'impacted', ['b']],
      ['b', 'impacted', ['a']],
    ])
  })

  it('lists names the way people write them', () => {
    expect(listNames([])).toBe('')
    expect(listNames(['a'])).toBe('a')
    expect(listNames(['a', 'b'])).toBe('a and b')
    expect(listNames(['a', 'b', 'c'])).toBe('a, b and c')
    expect(listNames(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c and 2 more')
  })
})
