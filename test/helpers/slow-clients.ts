/**
 * Clients that stop reading, over raw `node:net` sockets so the test decides when bytes are
 * taken off the wire, and what a bridge process holds for them, read from /proc from outside.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { connect, type Socket } from 'node:net'

import { SseParser } from '../../src/client/sse.js'

export interface StalledClient {
  readonly socket: Socket
  /** This end's port: names the connection in /proc/net/tcp. */
  readonly localPort: number
  /** The response head, read before the client stopped reading. */
  readonly head: string
  closed(): boolean
}

/**
 * Sends `request` (raw HTTP), reads the response head, then never reads again: the kernel's
 * buffers fill, then whatever the bridge queues for it.
 */
export function stalledClient(port: number, request: string): Promise<StalledClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let head = ''
    let closed = false
    socket.on('error', () => undefined)
    socket.on('close', () => (closed = true))
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      socket.pause()
      resolve({
        socket,
        localPort: socket.localPort ?? -1,
        head: head.slice(0, head.indexOf('\r\n\r\n')),
        closed: () => closed,
      })
    }
    socket.on('data', onData)
    socket.once('connect', () => socket.write(request))
    socket.once('error', reject)
  })
}

/** Like stalledClient, but writes without ever reading anything (a pipelining poller). */
export function neverReadingClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    socket.pause()
    socket.on('error', () => undefined)
    socket.once('connect', () => {
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/** A stream client that reads everything: the event ids it saw, in order. */
export async function readingStream(
  url: string
): Promise<{ ids: string[]; ended(): boolean; close(): void }> {
  const controller = new AbortController()
  const res = await fetch(url, { signal: controller.signal })
  if (res.status !== 200 || !res.body) throw new Error(`stream answered ${res.status}`)
  const ids: string[] = []
  const parser = new SseParser()
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let ended = false
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        for (const e of parser.push(value)) if (e.id) ids.push(e.id)
      }
    } catch {
      // Cut, or aborted by close().
    }
    ended = true
  })()
  return {
    ids,
    ended: () => ended,
    close: () => {
      controller.abort()
    },
  }
}

/**
 * The client ports of the connections to `serverPort` whose server end process `pid` still has
 * a file descriptor for. A socket the process closed leaves its fds at once, even while the
 * kernel still tries to deliver what was queued (an orphan, inode 0).
 */
export function heldClientPorts(pid: number, serverPort: number): Set<number> {
  const sockets = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue // closed while we looked
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1]
    if (inode) sockets.add(inode)
  }
  const held = new Set<number>()
  for (const row of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    // sl, local address:port, remote address:port, ..., inode (the 10th field); ports in hex.
    const f = row.trim().split(/\s+/)
    const local = Number.parseInt(f[1]?.split(':')[1] ?? '', 16)
    const remote = Number.parseInt(f[2]?.split(':')[1] ?? '', 16)
    if (local === serverPort && f[9] !== undefined && sockets.has(f[9])) held.add(remote)
  }
  return held
}

/** Whether process `pid` still holds the server end of the connection from `clientPort`. */
export function holdsConnection(pid: number, serverPort: number, clientPort: number): boolean {
  return heldClientPorts(pid, serverPort).has(clientPort)
}

/** The process's resident memory, MiB, as the kernel counts it. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN') / 1024
}
