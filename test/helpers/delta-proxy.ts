/**
 * A proxy in front of a real bridge whose `GET /health/stream` always speaks in deltas: it
 * follows the bridge's own stream (whichever event types it sends), and re-sends the first
 * document as `event: health` and every later one as an `event: delta` of what changed. Every
 * other request is passed through. So a client (the status page) can be shown to follow deltas of a
 * real, changing stack, whatever the bridge behind it sends.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import { HealthFollower } from '../../src/client/follow.js'
import { SseParser } from '../../src/client/sse.js'
import type { HealthDelta, HealthDocument } from '../../src/client/types.js'

export interface DeltaProxy {
  readonly url: string
  /** Events sent to clients so far, by type. */
  readonly sent: { health: number; delta: number }
  close(): Promise<void>
}

/** The delta from `before` to `after`: changed or new services whole, and the names removed. */
export function diff(before: HealthDocument, after: HealthDocument): HealthDelta {
  const old = new Map(before.services.map((s) => [s.name, JSON.stringify(s)]))
  const names = new Set(after.services.map((s) => s.name))
  return {
    status: after.status,
    checkedAt: after.checkedAt,
    bridge: after.bridge,
    services: after.services.filter((s) => old.get(s.name) !== JSON.stringify(s)),
    removed: before.services.map((s) => s.name).filter((n) => !names.has(n)),
  }
}

function event(type: string, id: string, data: unknown): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`
}

async function streamDeltas(bridgeUrl: string, res: ServerResponse, sent: DeltaProxy['sent']) {
  const upstream = new AbortController()
  res.on('close', () => {
    upstream.abort()
  })
  const answer = await fetch(`${bridgeUrl}/health/stream`, { signal: upstream.signal })
  if (answer.status !== 200 || !answer.body) {
    res.writeHead(answer.status, { 'content-type': 'application/json' })
    res.end(await answer.text())
    return
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write('retry: 1000\n\n')
  const parser = new SseParser()
  const follower = new HealthFollower()
  let last: HealthDocument | null = null
  const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      for (const e of parser.push(value)) {
        const followed = follower.apply(e)
        if (!followed) continue
        if (last === null) {
          res.write(event('health', e.id, followed.doc))
          sent.health++
        } else {
          res.write(event('delta', e.id, diff(last, followed.doc)))
          sent.delta++
        }
        last = followed.doc
      }
    }
  } catch {
    // The client or the bridge went away.
  }
  res.end()
}

/** Anything else goes to the bridge as it came (method, body, the headers that matter). */
async function forward(bridgeUrl: string, req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const headers: Record<string, string> = {}
  for (const name of ['if-none-match', 'content-type', 'authorization', 'accept']) {
    const value = req.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  const method = req.method ?? 'GET'
  try {
    const init: RequestInit = { method, headers }
    if (method !== 'GET' && method !== 'HEAD') init.body = Buffer.concat(chunks)
    const answer = await fetch(`${bridgeUrl}${req.url ?? '/'}`, init)
    const out: Record<string, string> = {}
    answer.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'content-encoding' && k !== 'connection') out[k] = v
    })
    res.writeHead(answer.status, out)
    res.end(Buffer.from(await answer.arrayBuffer()))
  } catch {
    res.writeHead(502).end()
  }
}

export async function startDeltaProxy(bridgeUrl: string): Promise<DeltaProxy> {
  const sent = { health: 0, delta: 0 }
  const server = createServer((req, res) => {
    const path = req.url ?? '/'
    if (path.split('?')[0] === '/health/stream') {
      void streamDeltas(bridgeUrl, res, sent)
      return
    }
    void forward(bridgeUrl, req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}
