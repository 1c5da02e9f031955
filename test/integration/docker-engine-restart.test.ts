/**
 * The engine itself is stopped and started while the bridge runs. A private dockerd (own socket,
 * data root, exec root and containerd) is restarted, not the shared one: other test files keep
 * using the shared engine undisturbed, and nothing here needs a lock around a daemon restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  composeLabels,
  containerId,
  docker,
  dockerAvailable,
  REQUIRE_DOCKER,
  TEST_IMAGE,
  uniqueProject,
} from '../helpers/docker.js'
import {
  pollHealth,
  startDockerBridge,
  type DockerBridge,
  type HealthSample,
} from '../helpers/docker-bridge.js'
import {
  privateEngineUnavailable,
  startPrivateEngine,
  type PrivateEngine,
} from '../helpers/docker-private-engine.js'
import { waitFor } from '../helpers/wait-for.js'
import { healthDocumentSchema } from '../../src/wire/health-document.js'

const engine = await dockerAvailable()
const privateReason = engine.ok ? await privateEngineUnavailable() : engine.reason
if (engine.ok && privateReason !== null) {
  if (REQUIRE_DOCKER) throw new Error(`REQUIRE_DOCKER=1 but ${privateReason}`)
  process.stderr.write(`\n[engine-restart test skipped] ${privateReason}\n`)
}

const project = uniqueProject('restart')
let priv: PrivateEngine
let hb: DockerBridge

async function run(service: string, args: string[], command: string[]): Promise<string> {
  const name = `${project}-${service}-1`
  await docker(
    [
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'none',
      '--stop-timeout',
      '1',
      ...composeLabels(project, service),
      ...args,
      TEST_IMAGE,
      ...command,
    ],
    { socket: priv.socket }
  )
  return containerId(name, { socket: priv.socket })
}

const dockerState = async () => (await hb.health()).bridge.sources.docker

/** Long enough that polls see the outage before it counts, short enough for a lean test. */
const STALE_AFTER_MS = 2000

describe.skipIf(!engine.ok || privateReason !== null)(
  'Docker source: the engine restarts under the bridge',
  () => {
    beforeAll(async () => {
      const driver = await docker(['info', '--format', '{{.Driver}}'])
      priv = await startPrivateEngine(driver)
      hb = await startDockerBridge(
        project,
        { DOCKER_STALE_AFTER: `${STALE_AFTER_MS}ms` },
        priv.socket
      )
    })

    afterAll(async () => {
      // beforeAll may have failed half-way; the private engine must go in any case.
      await (hb as DockerBridge | undefined)?.stop()
      await (priv as PrivateEngine | undefined)?.destroy()
    })

    it('goes unknown while the engine is down, and is right again once it is back', async () => {
      const keeper = await run('keeper', ['--restart', 'always'], ['sleep', '100000'])
      await run(
        'web',
        [
          '--restart',
          'always',
          '--health-cmd',
          'true',
          '--health-interval',
          '300ms',
          '--health-retries',
          '1',
        ],
        ['sleep', '100000']
      )
      await run('oneshot', [], ['sleep', '100000'])
      await hb.waitForService('web', (s) => s?.message === 'healthcheck passing', 'healthy')
      await hb.waitForService('oneshot', (s) => s?.status === 'healthy', 'running')

      const polls = pollHealth(hb)
      await priv.stop()
      await waitFor(async () => (await dockerState()).state !== 'following', {
        what: 'the outage to be noticed',
      })
      expect((await fetch(`${hb.bridge.url}/health/ready`)).status).toBe(503)
      // Past DOCKER_STALE_AFTER, nothing Docker-judged may still claim to be healthy.
      const stale = await hb.waitForService(
        'keeper',
        (s) => s?.status === 'unknown',
        'unknown',
        STALE_AFTER_MS + 5000
      )
      expect(stale?.message).toMatch(/^docker engine unreachable since /)
      const sawUnknown = (p: HealthSample) => p.doc.services.some((s) => s.status === 'unknown')
      await waitFor(() => polls.samples.some(sawUnknown), { what: 'a poll to see it' })
      await polls.stop()
      // A dashboard's answer: the stack is unknown (a critical service is), and says so with 503;
      // the bridge itself is alive, and its Docker source says why it is blind.
      const res = await fetch(`${hb.bridge.url}/health`)
      expect(res.status).toBe(503)
      const doc = healthDocumentSchema.parse(await res.json())
      expect(doc.status).toBe('unknown')
      expect(doc.services.map((s) => s.status)).toEqual(['unknown', 'unknown', 'unknown'])
      expect((await fetch(`${hb.bridge.url}/health/live`)).status).toBe(200)
      const source = doc.bridge.sources.docker
      expect(['disconnected', 'connecting']).toContain(source.state)
      expect(source.detail).toMatch(/ECONNREFUSED|ENOENT|ended|closed|failed/)
      expect(source.unreachableSince).not.toBeNull()
      // Not before the bound: every poll answered before unreachableSince + DOCKER_STALE_AFTER
      // still showed the last known statuses, and there were such polls while disconnected.
      // (What was last known depends on the engine: stopping, it stops the containers, and an
      // engine that still sends their `die` events makes them unhealthy first.)
      const staleAt = Date.parse(source.unreachableSince ?? '') + STALE_AFTER_MS
      expect(Number.isFinite(staleAt)).toBe(true)
      const early = polls.samples.filter((p) => p.at < staleAt)
      const unknownEarly = early.filter(sawUnknown)
      expect(unknownEarly.map((p) => p.at - staleAt)).toEqual([])
      const blindButNotStale = early.filter(
        (p) => p.doc.bridge.sources.docker.state !== 'following'
      )
      expect(blindButNotStale.length).toBeGreaterThan(0)
      const firstUnknown = polls.samples.find(sawUnknown)

      const startedAt = Date.now()
      await priv.start()
      await waitFor(async () => (await dockerState()).state === 'following', {
        what: 'following again',
        timeoutMs: 45_000,
      })
      expect((await fetch(`${hb.bridge.url}/health/ready`)).status).toBe(200)
      // keeper and web came back by their restart policy; oneshot was stopped with the engine.
      const k = await hb.waitForService('keeper', (s) => s?.status === 'healthy', 'running again')
      expect(k?.instances[0]?.docker?.containerId).toBe(keeper)
      await hb.waitForService('web', (s) => s?.message === 'healthcheck passing', 'healthy again')
      const one = await hb.waitForService(
        'oneshot',
        (s) => s?.instances[0]?.docker?.state === 'exited',
        'exited'
      )
      expect(one?.status).toBe('unhealthy')
      const ps = await docker(['ps', '-a', '--format', '{{.Names}} {{.State}}'], {
        socket: priv.socket,
      })
      const states = new Map(ps.split('\n').map((l) => [l.split(' ')[0], l.split(' ')[1]]))
      const doc2 = await hb.health()
      for (const s of doc2.services) {
        for (const i of s.instances) expect(i.docker?.state).toBe(states.get(i.docker?.name))
      }
      expect(doc2.bridge.sources.docker.unreachableSince).toBeNull()
      const back = hb.lines.find((l) => l['msg'] === 'docker events stream re-established')
      expect(back).toBeDefined()
      process.stderr.write(
        `[engine-restart] first unknown answer ${Number(firstUnknown?.at) - staleAt} ms after the stale bound; following again ${Number(back?.['time']) - startedAt} ms after the engine was started, down ${String(back?.['downForMs'])} ms\n`
      )
    })
  }
)
