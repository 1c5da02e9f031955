/**
 * What a container with the Docker socket bind-mounted sees when dockerd restarts: the engine
 * deletes its socket file and makes a new one, and the mount keeps the old inode, now with no
 * link. The bridge tells that apart from an engine that is merely down (a missing path, or a
 * socket still linked) and gives up at once, so its restart policy mounts the new socket.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { DockerodeApi } from '../../src/sources/docker/docker-api.js'

const root = process.getuid?.() === 0
if (!root) process.stderr.write('\n[socket-removed test skipped] bind mounts need root\n')

describe.skipIf(!root)('a bind-mounted Docker socket that dockerd removed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-sock-'))
  const hostSocket = join(dir, 'host.sock')
  const mounted = join(dir, 'mounted.sock')
  afterAll(() => {
    try {
      execFileSync('umount', [mounted])
    } catch {
      // Not mounted (a failed step before): nothing to undo.
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('is told apart from an engine that is only down', async () => {
    const server = createServer()
    await new Promise<void>((r) => server.listen(hostSocket, r))
    writeFileSync(mounted, '')
    execFileSync('mount', ['--bind', hostSocket, mounted])
    const api = new DockerodeApi({ dockerHost: `unix://${mounted}` })
    // The engine is there (or down but its socket still linked): keep trying.
    expect(api.socketRemoved()).toBe(false)
    // dockerd stops: it deletes its socket; the mount still resolves, to an inode with no link.
    await new Promise<void>((r) =>
      server.close(() => {
        r()
      })
    )
    try {
      unlinkSync(hostSocket)
    } catch {
      // Node already removed it when the server closed.
    }
    expect(api.socketRemoved()).toBe(true)
    // On the host itself the path is simply gone: the engine's next socket will appear there.
    expect(new DockerodeApi({ dockerHost: `unix://${hostSocket}` }).socketRemoved()).toBe(false)
  })
})
