/**
 * A UNIX socket that relays every connection to the engine's socket, and can be *replaced*: a new
 * socket file (a new inode) at the same path, as dockerd creates on every start. A container
 * that bind-mounted the old file keeps the old inode, where nobody listens any more: exactly
 * what a bridge sees after an engine restart with live-restore, without restarting the engine
 * that other tests share.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export class SocketRelay {
  private server: Server | null = null
  private readonly sockets = new Set<Socket>()
  /** How many times the socket file was created (1 after start). */
  generation = 0

  private constructor(
    readonly path: string,
    /** Ours to remove on close; null when the caller chose the path. */
    private readonly dir: string | null,
    private readonly target: string
  ) {}

  /** `at`: a socket path to listen on (its directory is the caller's), else a fresh one. */
  static async start(target: string, at?: string): Promise<SocketRelay> {
    const dir = at === undefined ? mkdtempSync(join(tmpdir(), 'hbt-relay-')) : null
    const relay = new SocketRelay(at ?? join(dir ?? '', 'docker.sock'), dir, target)
    await relay.listen()
    return relay
  }

  /** Closes the socket (and every relayed connection), then creates a new one at the same path. */
  async replace(): Promise<void> {
    await this.stop()
    await this.listen()
  }

  async close(): Promise<void> {
    await this.stop()
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true })
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => {
      const engine = createConnection(this.target)
      for (const s of [client, engine]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => {
          client.destroy()
          engine.destroy()
        })
      }
      client.pipe(engine)
      engine.pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.path, resolve)
    })
    // The bridge runs as uid 1000; like the engine's socket, this one must be writable to it.
    chmodSync(this.path, 0o666)
    this.server = server
    this.generation++
  }

  private async stop(): Promise<void> {
    const server = this.server
    this.server = null
    for (const s of this.sockets) s.destroy()
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      })
    }
    rmSync(this.path, { force: true })
  }
}
