/**
 * A compose stack on a real engine (database with a healthcheck, an init job gated by
 * service_completed_successfully, replicated workers): jobs and dependencies come from compose's
 * own labels, scaling up and down leaves no ghosts, a recreated init job replaces the old one, and
 * `GET /health` agrees with `docker compose ps` throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  docker,
  dockerAvailable,
  REPO_ROOT,
  removeProject,
  uniqueProject,
} from '../helpers/docker.js'
import { startDockerBridge, type DockerBridge } from '../helpers/docker-bridge.js'
import { waitFor } from '../helpers/wait-for.js'

const engine = await dockerAvailable()
const project = uniqueProject('compose')
const FILE = `${REPO_ROOT}test/fixtures/docker/compose-stack.yml`
let hb: DockerBridge

function compose(args: string[], env: Record<string, string> = {}): Promise<string> {
  return docker(['compose', '-p', project, '-f', FILE, ...args], { env, timeoutMs: 120_000 })
}

/** Container names per service, as `docker compose ps -a` shows them. */
async function composePs(): Promise<Map<string, string[]>> {
  const out = await compose(['ps', '-a', '--format', '{{.Service}} {{.Name}}'])
  const byService = new Map<string, string[]>()
  for (const line of out.split('\n').filter(Boolean)) {
    const [service = '', name = ''] = line.split(' ')
    byService.set(service, [...(byService.get(service) ?? []), name].sort())
  }
  return byService
}

/** The same, as the bridge's `GET /health` shows it. */
async function bridgeView(): Promise<Map<string, string[]>> {
  const doc = await hb.health()
  return new Map(
    doc.services.map((s) => [
      s.name,
      s.instances.map((i) => i.docker?.name ?? `(no container) ${i.id}`).sort(),
    ])
  )
}

async function expectAgreement(what: string): Promise<void> {
  const expected = await composePs()
  let seen: Map<string, string[]> = new Map()
  try {
    await waitFor(
      async () => {
        seen = await bridgeView()
        return JSON.stringify([...seen].sort()) === JSON.stringify([...expected].sort())
      },
      { timeoutMs: 10_000, intervalMs: 10, what }
    )
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\n compose ps: ${JSON.stringify([...expected])}\n bridge:     ${JSON.stringify([...seen])}`,
      { cause: err }
    )
  }
}

describe.skipIf(!engine.ok)('Docker source on a real engine: a compose stack', () => {
  beforeAll(async () => {
    await removeProject(project)
    hb = await startDockerBridge(project)
    await compose(['up', '-d'])
  })

  afterAll(async () => {
    await hb.stop()
    await compose(['down', '-t', '0', '--remove-orphans']).catch(() => undefined)
    await removeProject(project)
  })

  it('reads kinds and dependencies from compose’s labels', async () => {
    await hb.waitForService(
      'worker',
      (s) => s?.status === 'healthy' && s.instances.length === 2,
      'two healthy workers'
    )
    const doc = await hb.health()
    const byName = new Map(doc.services.map((s) => [s.name, s]))
    expect(byName.get('db')).toMatchObject({
      kind: 'service',
      status: 'healthy',
      message: 'healthcheck passing',
    })
    expect(byName.get('db-init')).toMatchObject({
      kind: 'job',
      status: 'healthy',
      message: 'completed successfully',
      job: { state: 'succeeded', exitCode: 0 },
      dependsOn: ['db'],
    })
    expect(byName.get('worker')?.dependsOn).toEqual(['db', 'db-init'])
    expect(doc.status).toBe('healthy')
    expect(JSON.stringify(doc)).not.toContain('compose-secret-never-shown')
    await expectAgreement('the bridge to agree with compose ps after up')
  })

  it('follows a scale up and a scale down without ghosts', async () => {
    await compose(['up', '-d', '--no-recreate', '--scale', 'worker=4'])
    await hb.waitForService('worker', (s) => s?.instances.length === 4, 'four workers')
    await expectAgreement('four workers')
    await compose(['up', '-d', '--no-recreate', '--scale', 'worker=1'])
    const one = await hb.waitForService('worker', (s) => s?.instances.length === 1, 'one worker')
    expect(one).toMatchObject({ status: 'healthy' })
    await expectAgreement('one worker')
  })

  it('replaces a recreated init job that now fails, and shows whom it impacts', async () => {
    const before = (await hb.service('db-init'))?.instances[0]?.docker?.containerId
    await compose(['up', '-d', '--no-deps', '--force-recreate', 'db-init'], { INIT_EXIT: '3' })
    const failed = await hb.waitForService(
      'db-init',
      (s) => s?.job?.state === 'failed',
      'failed job'
    )
    expect(failed).toMatchObject({ status: 'unhealthy', message: 'failed with exit code 3' })
    expect(failed?.instances).toHaveLength(1)
    expect(failed?.instances[0]?.docker?.containerId).not.toBe(before)
    const worker = await hb.service('worker')
    expect(worker?.impactedBy).toEqual(['db-init'])
    expect((await hb.health()).status).toBe('unhealthy')
    await expectAgreement('after the recreate')
  })

  it('drops the whole stack on compose down', async () => {
    await compose(['down', '-t', '0'])
    await waitFor(async () => (await hb.health()).services.length === 0, {
      what: 'no services',
      timeoutMs: 15_000,
    })
    expect((await hb.health()).bridge.sources.docker.state).toBe('following')
  })
})
