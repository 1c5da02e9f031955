/**
 * Issue 3 on a real engine: containers of one compose project go through what the contract's
 * Docker table lists, and the bridge's `GET /health` follows each change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  composeLabels,
  containerId,
  docker,
  dockerAvailable,
  removeProject,
  TEST_IMAGE,
  uniqueProject,
} from '../helpers/docker.js'
import { startDockerBridge, type DockerBridge } from '../helpers/docker-bridge.js'

const engine = await dockerAvailable()
const project = uniqueProject('life')
let hb: DockerBridge

/** `docker run -d` of a compose-labelled container `<project>-<service>-1`. */
async function run(
  service: string,
  args: string[],
  command: string[] = ['sleep', '1000']
): Promise<string> {
  await docker([
    'run',
    '-d',
    '--name',
    `${project}-${service}-1`,
    ...composeLabels(project, service),
    ...args,
    TEST_IMAGE,
    ...command,
  ])
  return containerId(`${project}-${service}-1`)
}

const healthcheck = (cmd: string) => [
  '--health-cmd',
  cmd,
  '--health-interval',
  '500ms',
  '--health-retries',
  '1',
  '--health-timeout',
  '5s',
]

describe.skipIf(!engine.ok)('Docker source on a real engine: lifecycle', () => {
  beforeAll(async () => {
    await removeProject(project)
    hb = await startDockerBridge(project, { CRASHLOOP_RESTARTS: '2', LOG_LEVEL: 'debug' })
    const doc = await hb.health()
    expect(doc.bridge.sources.docker).toMatchObject({ state: 'following', project })
  })

  afterAll(async () => {
    await hb.stop()
    await removeProject(project)
  })

  it('follows a healthcheck from starting to passing, failing and passing again', async () => {
    const id = await run(
      'web',
      [
        ...healthcheck('test -f /tmp/ok || (echo "no /tmp/ok here"; exit 1)'),
        '-e',
        'DB_PASSWORD=never-leave-the-bridge',
      ],
      ['sh', '-c', 'touch /tmp/ok; sleep 1000']
    )
    await hb.waitForService('web', (s) => s?.message === 'healthcheck passing', 'healthy')
    await docker(['exec', `${project}-web-1`, 'rm', '/tmp/ok'])
    const failing = await hb.waitForService('web', (s) => s?.status === 'unhealthy', 'unhealthy')
    expect(failing?.message).toMatch(/no \/tmp\/ok here/)
    expect(failing?.instances[0]?.docker).toMatchObject({
      containerId: id,
      state: 'running',
      health: 'unhealthy',
      lastProbeOutput: 'no /tmp/ok here',
    })
    await docker(['exec', `${project}-web-1`, 'touch', '/tmp/ok'])
    await hb.waitForService('web', (s) => s?.status === 'healthy', 'healthy again')
    const body = JSON.stringify(await hb.health())
    expect(body).not.toContain('never-leave-the-bridge')
    expect(hb.raw.join('\n')).not.toContain('never-leave-the-bridge')
  })

  it('judges a job that exits 0 as completed and one that exits 3 as failed', async () => {
    const job = ['-l', 'health-bridge.role=job']
    await run('init-ok', job, ['sh', '-c', 'sleep 0.3; exit 0'])
    await run('init-bad', job, ['sh', '-c', 'sleep 0.3; exit 3'])
    const ok = await hb.waitForService('init-ok', (s) => s?.job?.state === 'succeeded', 'succeeded')
    expect(ok).toMatchObject({ kind: 'job', status: 'healthy', message: 'completed successfully' })
    const bad = await hb.waitForService('init-bad', (s) => s?.job?.state === 'failed', 'failed')
    expect(bad).toMatchObject({
      kind: 'job',
      status: 'unhealthy',
      message: 'failed with exit code 3',
    })
    expect(bad?.job?.exitCode).toBe(3)
  })

  it('sees a crash loop under a restart policy', async () => {
    await run('looper', ['--restart', 'always'], ['sh', '-c', 'sleep 0.2; exit 1'])
    const looping = await hb.waitForService(
      'looper',
      (s) => s?.message.startsWith('crash-looping') === true,
      'crash-looping'
    )
    expect(looping?.status).toBe('unhealthy')
    expect(looping?.message).toMatch(/^crash-looping: \d+ restarts in 1m$/)
    expect(looping?.instances[0]?.docker?.recentRestarts).toBeGreaterThanOrEqual(2)
    await docker(['update', '--restart', 'no', `${project}-looper-1`])
  })

  it('shows a paused container as unhealthy within 250 ms, and healthy again after unpause', async () => {
    await run('pausable', [])
    await hb.waitForService('pausable', (s) => s?.status === 'healthy', 'running')
    await docker(['pause', `${project}-pausable-1`])
    let t = Date.now()
    await hb.waitForService('pausable', (s) => s?.message === 'paused', 'paused')
    expect(Date.now() - t).toBeLessThan(250)
    await docker(['unpause', `${project}-pausable-1`])
    t = Date.now()
    await hb.waitForService('pausable', (s) => s?.status === 'healthy', 'unpaused')
    expect(Date.now() - t).toBeLessThan(250)
  })

  it('shows a container killed by a signal with its exit code', async () => {
    await run('victim', [])
    await hb.waitForService('victim', (s) => s?.status === 'healthy', 'running')
    await docker(['kill', `${project}-victim-1`])
    const killed = await hb.waitForService(
      'victim',
      (s) => s?.instances[0]?.docker?.state === 'exited',
      'exited'
    )
    expect(killed).toMatchObject({ status: 'unhealthy', message: 'exited with code 137' })
  })

  it('says when the kernel killed a container for memory', async () => {
    await run(
      'hog',
      ['--memory', '8m', '--memory-swap', '8m'],
      ['sh', '-c', 'sleep 0.3; tail /dev/zero']
    )
    const oom = await hb.waitForService(
      'hog',
      (s) => s?.instances[0]?.docker?.state === 'exited',
      'exited'
    )
    expect(oom).toMatchObject({ status: 'unhealthy', message: 'exited with code 137 (OOM killed)' })
    expect(oom?.instances[0]?.docker?.oomKilled).toBe(true)
  })

  it('merges a running container with its heartbeats, and notices when they stop', async () => {
    const id = await run('reporter', [
      '-l',
      'health-bridge.heartbeat=true',
      '-l',
      'health-bridge.heartbeat-timeout=1s',
    ])
    const beat = () =>
      fetch(`${hb.bridge.url}/health`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'reporter', instance: id.slice(0, 12) }),
      })
    expect((await beat()).status).toBe(202)
    const merged = await hb.waitForService(
      'reporter',
      (s) => s?.status === 'healthy' && s.instances[0]?.heartbeat?.lastSeenAt != null,
      'healthy with a heartbeat'
    )
    expect(merged?.instances).toHaveLength(1)
    expect(merged?.instances[0]?.docker?.containerId).toBe(id)
    const silent = await hb.waitForService('reporter', (s) => s?.status === 'unhealthy', 'silent')
    expect(silent?.message).toMatch(/^no heartbeat for more than 1s/)
    expect(silent?.instances[0]?.docker?.state).toBe('running')
  })

  it('forgets a removed container', async () => {
    await run('temp', [])
    await hb.waitForService('temp', (s) => s !== undefined, 'present')
    await docker(['rm', '-f', `${project}-temp-1`])
    await hb.waitForService('temp', (s) => s === undefined, 'gone')
  })

  it('never asked the engine for anything outside its project', async () => {
    const doc = await hb.health()
    for (const s of doc.services) {
      for (const i of s.instances) expect(i.docker?.name.startsWith(project) ?? true).toBe(true)
    }
    expect(doc.bridge.sources.docker.state).toBe('following')
  })
})
