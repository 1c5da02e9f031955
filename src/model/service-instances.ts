/**
 * Every instance of one service: heartbeats matched to the containers (or, on a hub, the peer
 * instances) they speak for, the rest instances of their own or, once silent long enough,
 * forgotten; and every name each instance answers to in `?instance=`.
 */
import { containerOf, hostnameCounts, remoteOf } from './heartbeat-match.js'
import { forgetAt } from './judge-heartbeat.js'
import {
  judgeContainerInstance,
  judgeHeartbeatInstance,
  judgeRemoteInstance,
  type BuiltInstance,
  type Judging,
} from './judge-instance.js'
import type { ContainerObservation, HeartbeatObservation } from './observations.js'
import type { RemoteService } from './remote.js'

function byId(a: BuiltInstance, b: BuiltInstance): number {
  const x = a.instance.id
  const y = b.instance.id
  return x < y ? -1 : x > y ? 1 : 0
}

/** The instances in id order; fills `aliases` (name -> id) and `forget` (silent instances). */
export function buildInstances(
  containers: readonly ContainerObservation[],
  heartbeats: readonly HeartbeatObservation[],
  remotes: readonly RemoteService[],
  j: Judging,
  aliases: Map<string, string>,
  forget: string[]
): BuiltInstance[] {
  const hostnames = hostnameCounts(containers)
  const matched = new Map<string, HeartbeatObservation>()
  const unmatched: HeartbeatObservation[] = []
  for (const hb of heartbeats) {
    const c = containerOf(hb, containers, hostnames)
    const target = c?.id ?? remoteOf(hb, remotes)?.id
    if (target === undefined) {
      unmatched.push(hb)
      continue
    }
    aliases.set(hb.instance, c?.name ?? target)
    const prev = matched.get(target)
    if (!prev || hb.receivedAt > prev.receivedAt) matched.set(target, hb)
  }
  const built: BuiltInstance[] = []
  for (const c of containers) {
    for (const alias of [c.name, c.id, c.hostname]) if (alias) aliases.set(alias, c.name)
    built.push(judgeContainerInstance(c, matched.get(c.id) ?? null, j))
  }
  for (const r of remotes) {
    for (const i of r.instances) {
      aliases.set(i.id, i.id)
      built.push(judgeRemoteInstance(i, r, matched.get(i.id) ?? null, j))
    }
  }
  for (const hb of unmatched) {
    const until = forgetAt(hb, j.settings.heartbeatTimeoutMs)
    if (until !== null && j.now >= until) {
      forget.push(hb.instance)
      continue
    }
    aliases.set(hb.instance, hb.instance)
    built.push(judgeHeartbeatInstance(hb, j, until))
  }
  return built.sort(byId)
}
