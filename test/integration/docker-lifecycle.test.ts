/**
 * Issue 3 on a real engine: containers of one compose project go through what the contract's
 * Docker table lists, and the bridge's `GET /health` follows each change. The bridge talks to the
 * engine through a recording proxy, and containers of another project crash-loop next to ours the
 * whole time, so the last test can check what the bridge asked the engine for.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  composeLabels,
  containerId,
  docker,
  DOCKER_SOCKET,
  dockerAvailable,
  removeProject,
  TEST_IMAGE,
  uniqueProject,
} from '../helpers/docker.js'
import { startDockerBridge, type DockerBridge, type ServiceDoc } from '../helpers/docker-bridge.js'
import { RecordingProxy } from '../helpers/recording-proxy.js'
import { waitFor } from '../helpers/wait-for.js'

const engine = await dockerAvailable()
const project = uniqueProject('life')
/** Another project on the same engine: the bridge must never see it, nor ask about it. */
const neighbours = uniqueProject('life-other')
let proxy: RecordingProxy
let hb: DockerBridge
/** Every container this file created in `project`. */
const ours = new Set<string>()

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
  const id = await containerId(`${project}-${service}-1`)
  ours.add(id)
  return id
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
    await removeProject(neighbours)
    proxy = await RecordingProxy.start(DOCKER_SOCKET)
    hb = await startDockerBridge(
      project,
      { CRASHLOOP_RESTARTS: '2', CRASHLOOP_STABLE_AFTER: '3s', LOG_LEVEL: 'debug' },
      proxy.socketPath
    )
    const doc = await hb.health()
    expect(doc.bridge.sources.docker).toMatchObject({ state: 'following', project })
    // Events outside the project all along: a crash loop, with a healthcheck, of another project.
    await docker([
      'run',
      '-d',
      '--name',
      `${neighbours}-noisy-1`,
      ...composeLabels(neighbours, 'noisy'),
      '--restart',
      'always',
      '--health-cmd',
      'true',
      '--health-interval',
      '500ms',
      TEST_IMAGE,
      'sh',
      '-c',
      'sleep 1; exit 1',
    ])
  })

  afterAll(async () => {
    await (hb as DockerBridge | undefined)?.stop()
    await (proxy as RecordingProxy | undefined)?.close()
    await removeProject(project)
    await removeProject(neighbours)
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
    // The health_status event turns it unhealthy at once; the inspect behind it brings the probe.
    const failing = await hb.waitForService(
      'web',
      (s) => s?.status === 'unhealthy' && s.message.includes('no /tmp/ok here'),
      "unhealthy, with the probe's words"
    )
    expect(failing?.message).toBe('healthcheck failing (1 in a row): no /tmp/ok here')
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
    // While it is up between two crashes, the message also says since when.
    expect(looping?.message).toMatch(
      /^crash-looping: \d+ restarts in 1m( \(up since \d\d:\d\d:\d\dZ\))?$/
    )
    expect(looping?.instances[0]?.docker?.recentRestarts).toBeGreaterThanOrEqual(2)
    // Only to stop the loop. The engine refuses an update while the container sits between two
    // restarts ("cannot update a stopped container"), so try again until it is up.
    await waitFor(
      () =>
        docker(['update', '--restart', 'no', `${project}-looper-1`]).then(
          () => true,
          () => false
        ),
      { what: 'the restart policy of the looper turned off', timeoutMs: 30_000, intervalMs: 100 }
    )
  })

  it('forgives a fixed crash loop once it has run CRASHLOOP_STABLE_AFTER (3s), not before', async () => {
    // It crashes until a file appears in a directory shared with the host: the fix.
    const state = mkdtempSync('/tmp/hbt-fix-')
    chmodSync(state, 0o777)
    try {
      await run(
        'fixable',
        ['--restart', 'always', '-v', `${state}:/state`],
        ['sh', '-c', 'test -f /state/ok || { sleep 0.2; exit 1; }; exec sleep 1000']
      )
      await hb.waitForService(
        'fixable',
        (s) => s?.message.startsWith('crash-looping') === true,
        'crash-looping'
      )
      writeFileSync(join(state, 'ok'), '')
      const seen: string[] = []
      const forgiven = await hb.waitForService(
        'fixable',
        (s) => {
          if (s && seen.at(-1) !== s.message) seen.push(s.message)
          return s?.status === 'healthy'
        },
        'forgiven',
        40_000
      )
      expect(forgiven?.message).toBe('running')
      const part = forgiven?.instances[0]?.docker
      // Forgiven by the rule, not by the restarts ageing out of the 1m window.
      expect(part?.recentRestarts).toBeGreaterThanOrEqual(2)
      const startedAt = Date.parse(part?.startedAt ?? '')
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(3000)
      // Until then it said since when it was up, in words that do not change every second.
      const up = `(up since ${new Date(startedAt).toISOString().slice(11, 19)}Z)`
      expect(seen.filter((m) => m.endsWith(up))).toHaveLength(1)
      expect(seen.at(-2)).toMatch(/^crash-looping: \d+ restarts in 1m \(up since /)
    } finally {
      await docker(['rm', '-f', `${project}-fixable-1`]).catch(() => undefined)
      rmSync(state, { recursive: true, force: true })
    }
  })

  it('shows a paused container as unhealthy, and healthy again after unpause, from the events', async () => {
    const id = await run('pausable', [])
    await hb.waitForService('pausable', (s) => s?.status === 'healthy', 'running')
    await docker(['pause', `${project}-pausable-1`])
    const paused = await hb.waitForService('pausable', (s) => s?.message === 'paused', 'paused')
    expect(paused?.status).toBe('unhealthy')
    await docker(['unpause', `${project}-pausable-1`])
    await hb.waitForService('pausable', (s) => s?.status === 'healthy', 'unpaused')
    // Through the events (each re-inspects), not the once-a-minute reconciliation.
    const events = hb.lines
      .filter((l) => l['msg'] === 'docker event' && l['container'] === id.slice(0, 12))
      .map((l) => l['action'])
    expect(events).toEqual(expect.arrayContaining(['pause', 'unpause']))
    expect(events.indexOf('pause')).toBeLessThan(events.lastIndexOf('unpause'))
  })

  it('after an unpause, does not quote a passing probe as the failure while Docker says unhealthy', async () => {
    // A pause stops the health monitor, which sets `unhealthy` without a failed probe; after the
    // unpause Docker keeps that until its next probe, one interval (here 5s) later.
    const name = `${project}-probed-1`
    await run('probed', [
      '--health-cmd',
      'echo PONG',
      '--health-interval',
      '5s',
      '--health-timeout',
      '5s',
      '--health-retries',
      '3',
    ])
    await hb.waitForService(
      'probed',
      (s) => s?.message === 'healthcheck passing',
      'passing',
      30_000
    )
    await docker(['pause', name])
    await hb.waitForService('probed', (s) => s?.message === 'paused', 'paused')
    await docker(['unpause', name])
    const seen: ServiceDoc[] = []
    await hb.waitForService(
      'probed',
      (s) => {
        if (s && seen.at(-1)?.message !== s.message) seen.push(s)
        return s?.message === 'healthcheck passing'
      },
      'passing again',
      30_000
    )
    const waiting = seen.find((s) => s.message.startsWith('healthcheck unhealthy'))
    expect(waiting).toMatchObject({
      status: 'unhealthy',
      message: "healthcheck unhealthy; the last probe passed (waiting for Docker's next probe)",
    })
    expect(waiting?.instances[0]?.docker).toMatchObject({
      state: 'running',
      health: 'unhealthy',
      failingStreak: 0,
      lastProbeOutput: 'PONG',
    })
    expect(seen.map((s) => s.message).filter((m) => m.startsWith('healthcheck failing'))).toEqual(
      []
    )
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
    // The `die` event shows the exit at once; the inspect behind it says the kernel killed it
    // (Engine 20.10 may send `oom` after `die`, or not at all).
    const oom = await hb.waitForService(
      'hog',
      (s) => s?.instances[0]?.docker?.state === 'exited' && s.instances[0].docker.oomKilled,
      'exited, OOM killed'
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
    const noisy = await containerId(`${neighbours}-noisy-1`)
    // The neighbour really was busy next to us (each restart is a die and a start event).
    expect(
      Number(await docker(['inspect', '--format', '{{.RestartCount}}', noisy]))
    ).toBeGreaterThan(0)
    const filter = `com.docker.compose.project=${project}`
    const inspected: string[] = []
    for (const r of proxy.requests) {
      expect(r.method, r.path).toBe('GET')
      const path = r.path.replace(/^\/v\d+\.\d+/, '')
      if (path === '/version') continue
      if (path === '/events' || path === '/containers/json') {
        // Filtered by the engine: nothing of another project is ever sent to the bridge.
        const filters = JSON.parse(r.query['filters'] ?? '{}') as Record<string, string[]>
        expect(filters['label'], path).toEqual([filter])
        continue
      }
      const id = /^\/containers\/([^/]+)\/json$/.exec(path)?.[1]
      expect(id, path).toBeDefined()
      if (id !== undefined) inspected.push(id)
    }
    expect(inspected.length).toBeGreaterThan(ours.size)
    expect(inspected.filter((id) => !ours.has(id))).toEqual([])
    const doc = await hb.health()
    expect(doc.services.map((s) => s.name)).not.toContain('noisy')
    expect(doc.bridge.sources.docker.state).toBe('following')
  })
})
