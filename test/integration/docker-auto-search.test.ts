/**
 * DOCKER=auto with no engine at start-up (`npm start` on a laptop before Docker runs): the bridge
 * serves heartbeats, its overall status is not dragged down by the missing engine, and once an
 * engine answers at DOCKER_HOST (here: a relay to the shared engine, created at that path later)
 * it follows it, and from then on the engine's containers count.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { SocketRelay } from '../helpers/compose-socket-relay.js'
import {
  composeLabels,
  docker,
  DOCKER_SOCKET,
  dockerAvailable,
  removeProject,
  TEST_IMAGE,
  uniqueProject,
} from '../helpers/docker.js'
import { startDockerBridge, type DockerBridge } from '../helpers/docker-bridge.js'
import { waitFor } from '../helpers/wait-for.js'

const engine = await dockerAvailable()
const project = uniqueProject('auto')
const dir = mkdtempSync('/tmp/hbt-auto-')
/** Nothing listens here when the bridge starts. */
const socket = join(dir, 'docker.sock')
let relay: SocketRelay | undefined
let hb: DockerBridge

const beat = () =>
  fetch(`${hb.bridge.url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'beater', instance: 'laptop' }),
  })

describe.skipIf(!engine.ok)('DOCKER=auto: an engine that appears after start-up', () => {
  beforeAll(async () => {
    await removeProject(project)
    hb = await startDockerBridge(project, { DOCKER: 'auto' }, socket, { follow: false })
  })

  afterAll(async () => {
    await (hb as DockerBridge | undefined)?.stop()
    await relay?.close()
    rmSync(dir, { recursive: true, force: true })
    await removeProject(project)
  })

  it('runs heartbeat-only meanwhile, and the missing engine does not drag the status down', async () => {
    const docker = (await hb.health()).bridge.sources.docker
    expect(docker).toMatchObject({ state: 'disabled', unreachableSince: null })
    expect(docker.detail).toBe(
      `no Docker engine at unix://${socket} (connect ENOENT ${socket}); heartbeat-only until one answers (DOCKER=auto)`
    )
    expect((await beat()).status).toBe(202)
    const res = await fetch(`${hb.bridge.url}/health`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { status: string }).status).toBe('healthy')
    expect((await fetch(`${hb.bridge.url}/health/ready`)).status).toBe(200)
    expect(hb.lines.filter((l) => l['level'] === 40).map((l) => l['msg'])).toEqual([
      'no Docker engine; running heartbeat-only, looking for one in the background',
    ])
  })

  it('follows the engine once one answers there, and from then on its containers count', async () => {
    relay = await SocketRelay.start(DOCKER_SOCKET, socket)
    await waitFor(async () => (await hb.health()).bridge.sources.docker.state === 'following', {
      what: 'the bridge to find the engine and follow it',
      timeoutMs: 30_000,
    })
    const found = hb.lines.filter(
      (l) => l['msg'] === 'docker engine appeared; watching compose project'
    )
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ project, via: 'COMPOSE_PROJECT_NAME' })

    await docker([
      'run',
      '-d',
      '--name',
      `${project}-broken-1`,
      ...composeLabels(project, 'broken'),
      TEST_IMAGE,
      'sh',
      '-c',
      'exit 3',
    ])
    const broken = await hb.waitForService(
      'broken',
      (s) => s?.instances[0]?.docker?.state === 'exited',
      'exited'
    )
    expect(broken).toMatchObject({ status: 'unhealthy', message: 'exited with code 3' })
    const res = await fetch(`${hb.bridge.url}/health`)
    expect(res.status).toBe(503)
    expect(((await res.json()) as { status: string }).status).toBe('unhealthy')
    // Heartbeats went on working through the hand-over.
    expect((await beat()).status).toBe(202)
    expect((await hb.service('beater'))?.status).toBe('healthy')
  })
})
