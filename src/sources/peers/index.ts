/** The peer sources of a hub: one per entry of PEERS, none on a plain bridge. */
import type { Clock } from '../../clock.js'
import type { Config } from '../../config/config.js'
import type { Logger } from '../../logger.js'
import type { HealthSource, PeerSink } from '../source.js'

import { PeerSource } from './peer-source.js'

export function createPeerSources(deps: {
  config: Pick<Config, 'peers' | 'peerToken' | 'peerCa' | 'peerStaleAfterMs'>
  sink: PeerSink
  logger: Logger
  clock: Clock
}): HealthSource[] {
  const { config } = deps
  return config.peers.map(
    (peer) =>
      new PeerSource({
        peer,
        token: config.peerToken,
        ca: config.peerCa,
        staleAfterMs: config.peerStaleAfterMs,
        sink: deps.sink,
        logger: deps.logger,
        clock: deps.clock,
      })
  )
}
