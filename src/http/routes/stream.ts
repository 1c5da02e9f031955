/**
 * `GET /health/stream`: the health document as Server-Sent Events (the hub in
 * `src/stream/hub.ts` keeps the connections). First the whole document (`event: health`), then
 * one `event: delta` per change, or with `?full=1` the whole document every time.
 */
import type { HttpBindings } from '@hono/node-server'
import { Hono } from 'hono'
import { z } from 'zod'

import { durationSchema } from '../../config/duration.js'
import type { StreamHub } from '../../stream/hub.js'
import { HttpError } from '../errors.js'
import { parseQuery } from '../query.js'

export const streamQuerySchema = z.strictObject({
  keepAlive: durationSchema({ min: 1000 })
    .pipe(z.number().max(5000, 'must be at most 5s (the keep-alive is at least every 5 s anyway)'))
    .optional()
    .describe(
      'How often to send a keep-alive comment when nothing changes, 1s to 5s (default 5s): a client that treats silence as loss (a hub, PEER_STALE_AFTER) asks for a third of its limit.'
    ),
  full: z
    .enum(['0', '1', 'true', 'false'], { error: 'must be 1 (whole documents) or 0 (deltas)' })
    .optional()
    .describe('1: send the whole document on every change instead of deltas (0.1.0 behaviour).'),
})

export function streamRoutes(deps: { hub: StreamHub }): Hono {
  const { hub } = deps
  const app = new Hono()

  app.get('/health/stream', (c) => {
    const q = parseQuery(c, streamQuerySchema)
    const headers = {
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: compressing proxies must not buffer events; X-Accel-Buffering: nginx.
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      // A stream's connection is not reused: when the stream ends (shutdown, a dropped slow
      // client) the socket closes with it, instead of idling until a keep-alive timeout.
      connection: 'close',
    }
    // Hono answers HEAD with the GET handler and drops the body unread: open nothing for it.
    if (c.req.method === 'HEAD') return c.body(null, 200, headers)
    // The Node response, to close the connection of a client that stopped reading (none in
    // app.request() tests).
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing
    const body = hub.open({
      lastEventId: c.req.header('last-event-id'),
      keepAliveMs: q.keepAlive,
      full: q.full === '1' || q.full === 'true',
      signal: c.req.raw.signal,
      cut: outgoing ? () => outgoing.destroy() : undefined,
    })
    if (!body) {
      const why =
        hub.maxStreams === 0
          ? 'the event stream is turned off (MAX_STREAMS=0)'
          : `${hub.maxStreams} event streams are already open (MAX_STREAMS)`
      throw new HttpError(
        429,
        'too_many_streams',
        `${why}; poll GET /health with If-None-Match instead`,
        undefined,
        { 'retry-after': '30' }
      )
    }
    return new Response(body, { status: 200, headers })
  })

  return app
}
