/** Whether the bridge is ready to be believed (`GET /health/ready`): its sources have synced. */
import type { PeerStatus } from '../model/observations.js'
import type { Status } from '../model/status.js'
import type { BridgeView, Readiness } from '../wire/health-document.js'

/**
 * Ready once every local source has synced (Docker listed and following, or off) and every
 * peer has either synced once or been tried for PEER_STALE_AFTER: a hub does not wait for
 * ever on a host that is down.
 */
export function readinessOf(
  sources: BridgeView['sources'],
  peers: readonly PeerStatus[],
  peerStaleAfterMs: number,
  now: number
): Readiness {
  const docker = sources.docker
  const dockerReady = docker.state === 'following' || docker.state === 'disabled'
  const peersReady = peers.every((p) => p.synced || now - p.triedSince >= peerStaleAfterMs)
  const ready = dockerReady && peersReady
  const status: Status = ready
    ? 'healthy'
    : docker.state === 'disconnected'
      ? 'unhealthy'
      : 'starting'
  return { status, ready, sources }
}
