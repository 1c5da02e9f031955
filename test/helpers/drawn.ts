/**
 * A health document without what may lag behind by design: heartbeat bookkeeping (lastSeenAt,
 * details, clock skew, the sources' lastEventAt) and checkedAt. What is left is everything a
 * display draws, which must never lag.
 */
import type { HealthDocument } from '../../src/wire/health-document.js'

export function drawnOnly(doc: HealthDocument): unknown {
  const { docker, peers } = doc.bridge.sources
  return {
    ...doc,
    checkedAt: null,
    bridge: {
      ...doc.bridge,
      sources: {
        ...doc.bridge.sources,
        docker: { ...docker, lastEventAt: null },
        peers: peers.map((p) => ({ ...p, lastEventAt: null })),
      },
    },
    services: doc.services.map((s) => ({
      ...s,
      instances: s.instances.map((i) => ({
        ...i,
        heartbeat: i.heartbeat && {
          ...i.heartbeat,
          lastSeenAt: null,
          details: null,
          clockSkewSeconds: null,
        },
      })),
    })),
  }
}
