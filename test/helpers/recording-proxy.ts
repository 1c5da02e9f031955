/**
 * A UNIX-socket proxy in front of the engine's socket, for tests that must see or disturb what
 * travels between the bridge and the engine:
 * - records method, path and query of every request (keep-alive connections carry several);
 * - slices the engine's answers into tiny chunks, so events arrive split across reads;
 * - cuts the events stream, optionally in the middle of an event, once or every few seconds
 *   (Tecnativa's docker-socket-proxy cut it every 10 minutes);
 * - stalls the events stream: keeps the connection, passes no more of its bytes;
 * - holds inspect requests or answers for a while, so containers can go away meanwhile;
 * - refuses connections for a while, like an engine that is gone.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RecordedRequest {
  method: string
  /** Path without the query, e.g. `/v1.41/containers/json`. */
  path: string
  /** Decoded query parameters. */
  query: Record<string, string>
}

interface Pair {
  client: Socket
  engine: Socket
  /** Path of the last request on this connection. */
  lastPath: string
  /** Cut after writing this much of the next answer chunk (null: not armed). */
  cutAfter: number | null
  /** The engine's bytes are swallowed from now on; the connection stays open. */
  stalled: boolean
  /** The next answer chunk is the first of an inspect answer (for `holdInspects`). */
  inspectAnswerNext: boolean
}

/** Which half of an inspect `holdInspects` delays. */
export type HoldSide = 'request' | 'answer'

export class RecordingProxy {
  readonly requests: RecordedRequest[] = []
  /** When set, answers are written in pieces of at most this many bytes. */
  sliceBytes: number | null = null
  /** While true, new connections are closed at once (the engine looks gone). */
  refuse = false
  /** Events streams cut by `cutEventsAfter` so far. */
  timedCuts = 0
  /** Inspect requests or answers being held right now (`holdInspects`). */
  held = 0
  private hold: { ms: number; side: HoldSide } | null = null
  private cutAfterMs: number | null = null
  private readonly cutTimers = new Set<NodeJS.Timeout>()
  private readonly pairs = new Set<Pair>()
  private readonly server: Server

  private constructor(
    readonly socketPath: string,
    private readonly dir: string,
    target: string
  ) {
    this.server = createServer((client) => {
      this.accept(client, target)
    })
  }

  static async start(target: string): Promise<RecordingProxy> {
    const dir = mkdtempSync(join(tmpdir(), 'hb-proxy-'))
    const proxy = new RecordingProxy(join(dir, 'docker.sock'), dir, target)
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject)
      proxy.server.listen(proxy.socketPath, resolve)
    })
    return proxy
  }

  /** Requests whose path (without the `/v1.xx` prefix) starts with `prefix`. */
  requestsTo(prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.replace(/^\/v\d+\.\d+/, '').startsWith(prefix))
  }

  /** Number of events streams currently open through the proxy. */
  get openEventStreams(): number {
    return [...this.pairs].filter((p) => isEvents(p.lastPath) && !p.client.destroyed).length
  }

  /**
   * Cuts every open events stream. With `midEvent`, waits for the next piece of the answer,
   * passes only its first `bytes` on and then cuts, so the client sees half an event.
   */
  cutEventStreams(opts: { midEvent?: boolean; bytes?: number } = {}): void {
    for (const pair of this.pairs) {
      if (!isEvents(pair.lastPath)) continue
      if (opts.midEvent) pair.cutAfter = opts.bytes ?? 20
      else this.drop(pair)
    }
  }

  /**
   * Cuts each events stream `ms` after it was asked for (null: no more), as a proxy with a
   * maximum stream duration does (Tecnativa's docker-socket-proxy: 10 minutes).
   */
  cutEventsAfter(ms: number | null): void {
    this.cutAfterMs = ms
    if (ms === null) {
      for (const timer of this.cutTimers) clearTimeout(timer)
      this.cutTimers.clear()
      return
    }
    for (const pair of this.pairs) if (isEvents(pair.lastPath)) this.cutLater(pair, ms)
  }

  /**
   * Stalls every open events stream: the connection stays open, the engine's bytes are read and
   * dropped, so the client sees silence (a half-dead proxy or NAT entry). New streams flow.
   */
  stallEventStreams(): number {
    let stalled = 0
    for (const pair of this.pairs) {
      if (!isEvents(pair.lastPath) || pair.client.destroyed) continue
      pair.stalled = true
      stalled++
    }
    return stalled
  }

  /**
   * Holds `GET /containers/{id}/json` for `ms` (null: no more): its request before it reaches the
   * engine (which then answers about the container as it is by then, 404 when it went away), or
   * its answer after the engine gave it (a 200 about a container that may be gone by then).
   */
  holdInspects(hold: { ms: number; side: HoldSide } | null): void {
    this.hold = hold
  }

  async close(): Promise<void> {
    for (const timer of this.cutTimers) clearTimeout(timer)
    for (const pair of this.pairs) this.drop(pair)
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve()
      })
    )
    rmSync(this.dir, { recursive: true, force: true })
  }

  private accept(client: Socket, target: string): void {
    if (this.refuse) {
      client.destroy()
      return
    }
    const engine = createConnection(target)
    const pair: Pair = {
      client,
      engine,
      lastPath: '',
      cutAfter: null,
      stalled: false,
      inspectAnswerNext: false,
    }
    this.pairs.add(pair)
    let head = Buffer.alloc(0)
    let bodyLeft = 0
    client.on('data', (chunk: Buffer) => {
      let inspect = false
      // Parse request heads as they pass, to record them; forward the bytes untouched.
      head = Buffer.concat([head, chunk])
      for (;;) {
        if (bodyLeft > 0) {
          const skip = Math.min(bodyLeft, head.length)
          head = head.subarray(skip)
          bodyLeft -= skip
          if (bodyLeft > 0) break
        }
        const end = head.indexOf('\r\n\r\n')
        if (end === -1) break
        const lines = head.subarray(0, end).toString('latin1').split('\r\n')
        head = head.subarray(end + 4)
        const [method = '', target = ''] = (lines[0] ?? '').split(' ')
        const url = new URL(target, 'http://engine')
        this.requests.push({
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
        })
        pair.lastPath = url.pathname
        if (isInspect(url.pathname)) inspect = true
        if (isEvents(url.pathname) && this.cutAfterMs !== null) this.cutLater(pair, this.cutAfterMs)
        const length = lines.find((l) => /^content-length:/i.test(l))
        bodyLeft = length ? Number(length.split(':')[1]) : 0
      }
      const hold = this.hold
      pair.inspectAnswerNext = inspect && hold?.side === 'answer'
      if (!inspect || hold?.side !== 'request') {
        engine.write(chunk)
        return
      }
      // Keeps later requests of this connection behind the held one.
      client.pause()
      this.held++
      setTimeout(() => {
        this.held--
        if (engine.destroyed) return
        engine.write(chunk)
        client.resume()
      }, hold.ms)
    })
    engine.on('data', (chunk: Buffer) => {
      this.forward(pair, chunk)
    })
    const drop = () => {
      this.drop(pair)
    }
    client.on('error', drop)
    client.on('close', drop)
    engine.on('error', drop)
    engine.on('close', drop)
  }

  private cutLater(pair: Pair, ms: number): void {
    const timer = setTimeout(() => {
      this.cutTimers.delete(timer)
      if (!this.pairs.has(pair)) return
      this.timedCuts++
      this.drop(pair)
    }, ms)
    this.cutTimers.add(timer)
  }

  private forward(pair: Pair, chunk: Buffer): void {
    if (pair.stalled) return
    if (pair.inspectAnswerNext && this.hold?.side === 'answer') {
      // The first piece of the answer waits; the engine side pauses so the rest stays behind it.
      pair.inspectAnswerNext = false
      const ms = this.hold.ms
      pair.engine.pause()
      this.held++
      setTimeout(() => {
        this.held--
        if (pair.client.destroyed) return
        pair.client.write(chunk)
        pair.engine.resume()
      }, ms)
      return
    }
    if (pair.cutAfter !== null) {
      pair.client.write(chunk.subarray(0, pair.cutAfter), () => {
        this.drop(pair)
      })
      return
    }
    const size = this.sliceBytes
    if (size === null || chunk.length <= size) {
      pair.client.write(chunk)
      return
    }
    // Pause the engine side so slices stay in order and go out as separate writes.
    pair.engine.pause()
    let offset = 0
    const next = () => {
      if (pair.client.destroyed) return
      if (offset >= chunk.length) {
        pair.engine.resume()
        return
      }
      const piece = chunk.subarray(offset, offset + size)
      offset += size
      pair.client.write(piece, () => setImmediate(next))
    }
    next()
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return
    pair.client.destroy()
    pair.engine.destroy()
  }
}

function isEvents(path: string): boolean {
  return /^(\/v\d+\.\d+)?\/events$/.test(path)
}

function isInspect(path: string): boolean {
  return /^(\/v\d+\.\d+)?\/containers\/[^/]+\/json$/.test(path)
}
