/**
 * A bound on pipelined requests waiting for their answers on one connection. Node stops reading
 * a socket whose answers back up, but only after parsing everything it already read: one 64 KiB
 * read of `GET /health` lines is ~1,900 requests, each answered and held until the client reads
 * (measured: 30 MB per connection that pipelines and never reads). No real client pipelines
 * that deep (browsers and undici do not pipeline at all), so past the bound the connection is
 * closed, and the requests already parsed are not handled.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

import type { Logger } from '../logger.js'

/** Requests on one connection whose answers are not yet out, beyond which it is closed. */
export const MAX_PIPELINED_REQUESTS = 16

/** `listener`, but a connection with more than `max` unanswered requests is closed instead. */
export function limitPipelining(
  listener: RequestListener,
  logger: Logger,
  max = MAX_PIPELINED_REQUESTS
): RequestListener {
  const pending = new WeakMap<Socket, number>()
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    // Parsed from the same read after the cut: nobody will read the answer.
    if (socket.destroyed) return
    const n = (pending.get(socket) ?? 0) + 1
    if (n > max) {
      logger.warn(
        { pipelined: n, limit: max },
        'connection closed: too many pipelined requests unanswered (the client is not reading)'
      )
      socket.destroy()
      return
    }
    pending.set(socket, n)
    // 'close' comes once, when the answer is out or the connection is gone.
    res.once('close', () => {
      pending.set(socket, (pending.get(socket) ?? 1) - 1)
    })
    listener(req, res)
  }
}
