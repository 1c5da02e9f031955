/**
 * What one change costs inside the store, without HTTP: re-judging, rendering and hashing one
 * service (the incremental path), against judging and rendering the whole stack from scratch
 * (what 0.1.0 did on every change), at 50, 500 and 5,000 heartbeat instances.
 */
import { bench, describe } from 'vitest'

import { loadConfig } from '../../src/config/config.js'
import { createLogger } from '../../src/logger.js'
import type { ReportedStatus } from '../../src/model/observations.js'
import { documentEtag, instanceEtag, serviceDrawHash } from '../../src/render/etag.js'
import { HealthStore } from '../../src/store/health-store.js'
import { DEFAULT_HISTORY } from '../../src/store/history.js'
import { FromScratch } from '../../test/helpers/from-scratch.js'
import { layout } from '../lib/heartbeats.js'

export const SIZES = [50, 500, 5000]
export const PER_SERVICE = 25

const config = loadConfig({ DOCKER: 'off', HEARTBEAT_TIMEOUT: '1h', MAX_INSTANCES: '100000' })
const logger = createLogger({ level: 'silent' })

function populated(n: number) {
  const store = new HealthStore({ config, clock: { now: () => Date.now() }, logger, version: 'b' })
  const refs = layout(n, PER_SERVICE)
  const beat = (i: number, reported: ReportedStatus = 'healthy') => {
    const ref = refs[i % refs.length] ?? { service: 'x', instance: 'x' }
    return store.recordHeartbeat({
      ...ref,
      reported,
      error: reported === 'healthy' ? null : 'down',
      details: { queueDepth: i % 17, version: '1.4.2' },
      sentAt: Date.now(),
      remoteAddress: '127.0.0.1',
    })
  }
  refs.forEach((_, i) => beat(i))
  store.current()
  return { store, beat, refs }
}

for (const n of SIZES) {
  describe(`${n} instances`, () => {
    const { store, beat, refs } = populated(n)
    let k = 0
    const services = refs.length / PER_SERVICE
    // The first instance of each service in turn, unhealthy one round and healthy the next.
    const flip = () => {
      const round = Math.floor(k / services)
      beat((k++ % services) * PER_SERVICE, round % 2 === 0 ? 'unhealthy' : 'healthy')
    }
    bench('status change: one service re-judged, rendered, hashed', () => {
      flip()
      store.current()
    })
    bench('status change, then the whole document as bytes', () => {
      flip()
      if (store.current().body.byteLength === 0) throw new Error('empty document')
    })
    bench('recordHeartbeat, no status change', () => {
      beat(k++)
    })
    const reference = new FromScratch(config, logger, 'b', DEFAULT_HISTORY)
    const heartbeats = [...refs.keys()].map((i) => {
      beat(i)
      return {
        ...(refs[i] ?? { service: '', instance: '' }),
        receivedAt: Date.now(),
        reported: 'healthy' as const,
        error: null,
        details: { queueDepth: i % 17, version: '1.4.2' },
        clockSkewSeconds: 0,
        remoteAddress: '127.0.0.1',
      }
    })
    const docker = store.dockerStatus()
    bench('from scratch: the whole stack judged and rendered (0.1.0, per change)', () => {
      reference.render({ containers: [], heartbeats, docker, bridgeStartedAt: 0 }, n, Date.now())
    })
  })
}

describe('etags', () => {
  const { store } = populated(5000)
  const doc = store.current().doc
  const svc = doc.services[0]
  const hashes = doc.services.map(serviceDrawHash)
  if (!svc?.instances[0]) throw new Error('no instance')
  const inst = svc.instances[0]
  bench(`serviceDrawHash, one service of ${PER_SERVICE} instances`, () => {
    serviceDrawHash(svc)
  })
  bench(`documentEtag over ${hashes.length} services`, () => {
    documentEtag({ status: doc.status, sources: 'disabled' }, hashes)
  })
  bench('instanceEtag (per ?service=&instance= request)', () => {
    instanceEtag(inst)
  })
})
