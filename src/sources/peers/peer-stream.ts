/**
 * One connection to a peer's `GET /health/stream`, over node:http(s) rather than fetch: it needs
 * a CA of its own next to Node's trust store, a deadline on silence from the first byte on (a
 * blackholed host never answers a connect), and bounded reads. It delivers text chunks and
 * fails with a reason a user can act on; it never throws past `failed`.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { rootCertificates } from 'node:tls'

import { SourceError } from '../errors.js'

export class PeerError extends SourceError {
  override readonly name = 'PeerError'
}

export interface PeerStreamOptions {
  url: string
  token: string | null
  /** PEM certificates trusted besides Node's own store (PEER_CA_FILE). */
  ca: string | null
  lastEventId: string | null
  /** No byte at all (event or keep-alive) for this long: the connection is dead. */
  silenceMs: number
  /** How often the peer is asked to send a keep-alive when nothing changes. */
  keepAliveMs: number
  signal: AbortSignal
  onChunk(text: string): void
}

/** How much of an error answer is read to name its `error` code. */
const ERROR_BODY_BYTES = 4096

async function errorCodeOf(res: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of res as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8')
    if (body.length >= ERROR_BODY_BYTES) break
  }
  try {
    const parsed = JSON.parse(body) as { error?: unknown }
    return typeof parsed.error === 'string' ? parsed.error.replace(/_/g, ' ') : ''
  } catch {
    return ''
  }
}

/**
 * Opens the stream and reads it until it fails: rejects with the reason (a clean end is a
 * reason too: the caller reconnects). Resolves only when `signal` aborts it. `onOpen` is called
 * once the answer is a 200 event stream.
 */
export function followPeerStream(opts: PeerStreamOptions, onOpen: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Relative, so a peer behind a path prefix (a reverse proxy's /bridge/) works too.
    const url = new URL('health/stream', `${opts.url}/`)
    url.searchParams.set('keepAlive', `${opts.keepAliveMs}ms`)
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (opts.token !== null) headers['authorization'] = `Bearer ${opts.token}`
    if (opts.lastEventId !== null) headers['last-event-id'] = opts.lastEventId
    const https = url.protocol === 'https:'
    const req = (https ? httpsRequest : httpRequest)(url, {
      headers,
      agent: false,
      ...(https && opts.ca !== null ? { ca: [...rootCertificates, opts.ca] } : {}),
    })
    let settled = false
    let silence: NodeJS.Timeout | undefined
    const fail = (err: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(silence)
      req.destroy()
      reject(err instanceof Error ? err : new PeerError(String(err)))
    }
    const quiet = () => {
      clearTimeout(silence)
      silence = setTimeout(() => {
        fail(new PeerError(`no event or keep-alive for ${Math.round(opts.silenceMs / 1000)}s`))
      }, opts.silenceMs)
    }
    quiet()
    req.on('error', fail)
    req.on('response', (res) => {
      const type = res.headers['content-type'] ?? ''
      if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        const status = res.statusCode ?? 0
        void errorCodeOf(res).then((code) => {
          const what = status === 200 ? 'not an event stream (is the URL a health-bridge?)' : code
          fail(new PeerError(`${status} ${what}`.trim()))
        }, fail)
        return
      }
      onOpen()
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        quiet()
        try {
          opts.onChunk(text)
        } catch (err) {
          fail(err)
        }
      })
      res.on('error', fail)
      res.on('end', () => {
        fail(new PeerError('the peer ended the stream'))
      })
      res.on('close', () => {
        fail(new PeerError('the connection to the peer closed'))
      })
    })
    req.end()
    opts.signal.addEventListener(
      'abort',
      () => {
        if (settled) return
        settled = true
        clearTimeout(silence)
        req.destroy()
        resolve()
      },
      { once: true }
    )
  })
}
