/**
 * `applyDelta()`: the one rule for following `GET /health/stream`'s `event: delta`. Pure and
 * dependency-free, so a browser, the typed client and a hub bridge apply deltas the same way.
 */
import type { HealthDelta, HealthDocument, ServiceView } from './types.js'

function byName(a: ServiceView, b: ServiceView): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/**
 * The document after `delta`: its header fields (`status`, `checkedAt`, `bridge`) replace the old
 * ones, each changed service replaces the one of the same name (or is added), and every name in
 * `removed` is dropped. Services stay sorted by name, as the bridge serves them. The input
 * document is not modified.
 */
export function applyDelta(doc: HealthDocument, delta: HealthDelta): HealthDocument {
  const services = new Map<string, ServiceView>()
  for (const s of doc.services) services.set(s.name, s)
  for (const name of delta.removed) services.delete(name)
  for (const s of delta.services) services.set(s.name, s)
  return {
    status: delta.status,
    checkedAt: delta.checkedAt,
    bridge: delta.bridge,
    services: [...services.values()].sort(byName),
  }
}
