/**
 * Wires one running bridge: store, sources, HTTP app and server. `main.ts` owns the process
 * (config errors, signals, exit codes); integration tests start bridges through this too.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { serve } from '@hono/node-server'

import { createApp } from './app.js'
import { limitPipelining } from './http/pipelining.js'
import { StreamHub } from './stream/hub.js'
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config/config.js'
import type { Logger } from './logger.js'
import { createMetrics } from './metrics/metrics.js'
import { createDockerSource } from './sources/docker/index.js'
import { createPeerSources } from './sources/peers/index.js'
import type { HealthSource } from './sources/source.js'
import { HealthStore } from './store/health-store.js'
import { VERSION } from './version.js'

/**
 * How often Node looks for connections past HEADERS_TIMEOUT / REQUEST_TIMEOUT. Its default is
 * 30 s, which would let a slow client hold a connection for the timeout *plus* up to 30 s.
 */
export const CONNECTIONS_CHECK_MS = 1000

/** How long shutdown waits for in-flight requests before it closes the remaining connections. */
export const DRAIN_MS = 1000

export interface BridgeOptions {
  config: Config
  logger: Logger
  clock?: Clock
  /** The Docker source gave up after DOCKER_GIVE_UP_AFTER; main exits so the socket is re-mounted. */
  onGiveUp?: (reason: string) => void
  /** How long stop() lets in-flight requests finish (DRAIN_MS); tests make it long to prove it is not waited for. */
  drainMs?: number
}

export interface RunningBridge {
  readonly url: string
  readonly port: number
  readonly store: HealthStore
  stop(): Promise<void>
}

export async function startBridge(opts: BridgeOptions): Promise<RunningBridge> {
  const { config, logger } = opts
  const clock = opts.clock ?? systemClock
  const store = new HealthStore({ config, clock, logger, version: VERSION })
  const metrics = createMetrics({ store, clock })
  const sources: HealthSource[] = []
  const docker = await createDockerSource({
    config,
    sink: store,
    logger,
    clock,
    notify: metrics.docker,
    ...(opts.onGiveUp ? { onGiveUp: opts.onGiveUp } : {}),
  })
  if (docker) sources.push(docker)
  sources.push(...createPeerSources({ config, sink: store, logger, clock }))

  // Open event streams never finish on their own: shutdown ends them (see stop()).
  const streams = new StreamHub({ source: store, logger, maxStreams: config.maxStreams })
  const app = createApp({ store, config, logger, metrics, clock, streams })
  // Slow clients cannot pin connections: explicit timeouts (HEADERS_TIMEOUT, REQUEST_TIMEOUT,
  // KEEP_ALIVE_TIMEOUT), rather than whatever this Node line defaults to. Clients that stop
  // reading cannot pin memory: a bound on pipelined requests, and SEND_TIMEOUT (Node's socket
  // timeout: no byte in or out for that long, which a reading stream never is, given its
  // keep-alives). Event streams have their own queue bound (src/stream/hub.ts).
  const timeouts = config.serverTimeouts
  const httpLog = logger.child({ module: 'http' })
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: config.port,
        hostname: config.host,
        serverOptions: {
          headersTimeout: timeouts.headersTimeoutMs,
          requestTimeout: timeouts.requestTimeoutMs,
          connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
        },
        createServer: ((options: object, listener: Parameters<typeof limitPipelining>[0]) =>
          createServer(options, limitPipelining(listener, httpLog))) as typeof createServer,
      },
      () => {
        resolve(s)
      }
    ) as Server
    // Before listen() accepts anything: applies to every connection.
    s.timeout = timeouts.sendTimeoutMs
    s.once('error', reject)
  })
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs
  const port = (server.address() as AddressInfo).port
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  for (const s of sources) s.start()
  logger.info(
    {
      address: `${config.host}:${port}`,
      version: VERSION,
      name: config.bridgeName,
      docker: docker ? 'on' : 'off',
      peers: config.peers.map((p) => p.name),
    },
    'health-bridge listening'
  )

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      // First, so streaming responses end cleanly and their connections can close with the rest.
      streams.closeAll()
      const closed = new Promise<void>((resolve) =>
        server.close(() => {
          resolve()
        })
      )
      server.closeIdleConnections()
      const drain = setTimeout(() => {
        server.closeAllConnections()
      }, opts.drainMs ?? DRAIN_MS)
      await Promise.all(sources.map((s) => s.stop()))
      store.close()
      await closed
      clearTimeout(drain)
    })())
  return { url, port, store, stop }
}
