/**
 * A small real HTTP server that speaks `GET /health/stream` the way the test scripts it: each
 * connection is handed to the test, which writes events and ends it. For clients that must
 * follow streams the bridge does not (yet) send, such as deltas, resumption and protocol errors.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import type { HealthDelta, HealthDocument } from '../../src/client/types.js'

export interface ScriptedConnection {
  readonly lastEventId: string | undefined
  readonly url: string
  send(event: { event?: string; id?: string; data?: unknown; retry?: number }): void
  comment(text: string): void
  end(): void
  /** Resolves when the client goes away. */
  readonly closed: Promise<void>
}

export interface ScriptedSseServer {
  readonly url: string
  /** Every connection so far, in order. */
  readonly connections: ScriptedConnection[]
  /** Resolves with connection number `n` (0-based) once it is open. */
  connection(n: number): Promise<ScriptedConnection>
  close(): Promise<void>
}

function wrap(req: IncomingMessage, res: ServerResponse): ScriptedConnection {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.flushHeaders()
  const closed = new Promise<void>((resolve) =>
    res.on('close', () => {
      resolve()
    })
  )
  const header = req.headers['last-event-id']
  return {
    lastEventId: Array.isArray(header) ? header[0] : header,
    url: req.url ?? '',
    send: ({ event, id, data, retry }) => {
      let out = ''
      if (retry !== undefined) out += `retry: ${retry}\n`
      if (id !== undefined) out += `id: ${id}\n`
      if (event !== undefined) out += `event: ${event}\n`
      if (data !== undefined)
        out += `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n`
      res.write(`${out}\n`)
    },
    comment: (text) => res.write(`: ${text}\n\n`),
    end: () => res.end(),
    closed,
  }
}

export async function startScriptedSseServer(): Promise<ScriptedSseServer> {
  const connections: ScriptedConnection[] = []
  const waiting = new Map<number, (c: ScriptedConnection) => void>()
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/health/stream')) {
      res.writeHead(404).end()
      return
    }
    const conn = wrap(req, res)
    connections.push(conn)
    waiting.get(connections.length - 1)?.(conn)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    connection: (n) => {
      const open = connections[n]
      if (open) return Promise.resolve(open)
      return new Promise((resolve) => waiting.set(n, resolve))
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}

/** A small document and the deltas a test sends against it. */
export function sampleDocument(services: Record<string, HealthDocument['status']>): HealthDocument {
  const names = Object.keys(services).sort()
  return {
    status: 'healthy',
    checkedAt: '2026-11-21T10:00:00.000Z',
    bridge: {
      name: 'host-1',
      version: 'test',
      startedAt: '2026-11-21T09:00:00.000Z',
      sources: {
        docker: {
          state: 'disabled',
          project: null,
          lastEventAt: null,
          unreachableSince: null,
          detail: null,
        },
        heartbeat: { instances: names.length },
        peers: [],
      },
    },
    services: names.map((name) => serviceNamed(name, services[name] ?? 'healthy')),
  }
}

export function serviceNamed(
  name: string,
  status: HealthDocument['status']
): HealthDocument['services'][number] {
  return {
    name,
    status,
    kind: 'service',
    critical: true,
    message: status === 'healthy' ? 'heartbeating' : `${name} is ${status}`,
    since: '2026-11-21T10:00:00.000Z',
    flapping: false,
    dependsOn: [],
    impactedBy: [],
    job: null,
    instances: [],
  }
}

export function deltaOf(
  doc: HealthDocument,
  changed: HealthDocument['services'],
  removed: string[] = []
): HealthDelta {
  return {
    status: doc.status,
    checkedAt: doc.checkedAt,
    bridge: doc.bridge,
    services: changed,
    removed,
  }
}
