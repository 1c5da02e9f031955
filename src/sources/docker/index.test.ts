import { describe, expect, it } from 'vitest'

import { loadConfig } from '../../config/config.js'
import { FakeDockerApi, inspectInfo, RecordingSink } from '../../../test/helpers/docker-fake-api.js'
import { memoryLogger } from '../../../test/helpers/log-sink.js'

import { createDockerSource, type DockerSourceDeps } from './index.js'

const OWN_ID = 'b'.repeat(64)
const notInContainer = { hostname: 'devbox', readFile: () => Promise.resolve(undefined) }
const inContainer = {
  hostname: OWN_ID.slice(0, 12),
  readFile: (path: string) =>
    Promise.resolve(
      path === '/proc/self/cgroup' ? `0::/system.slice/docker-${OWN_ID}.scope\n` : undefined
    ),
}

function create(env: Record<string, string>, over: Partial<DockerSourceDeps> = {}) {
  const api = new FakeDockerApi()
  const sink = new RecordingSink()
  const { logger, lines } = memoryLogger('info')
  const run = () =>
    createDockerSource({
      config: loadConfig(env),
      sink,
      logger,
      api,
      self: notInContainer,
      ...over,
    })
  return { api, sink, lines, run }
}

describe('createDockerSource', () => {
  it('DOCKER=off: disabled, and the engine is never asked', async () => {
    const { api, sink, run } = create({ DOCKER: 'off', COMPOSE_PROJECT_NAME: 'p' })
    await expect(run()).resolves.toBeNull()
    expect(api.calls).toEqual([])
    expect(sink.status).toMatchObject({ state: 'disabled', detail: 'DOCKER=off' })
  })

  it('DOCKER=auto without an engine: one warning, heartbeat-only', async () => {
    const { api, sink, lines, run } = create({ COMPOSE_PROJECT_NAME: 'p' })
    api.down = true
    await expect(run()).resolves.toBeNull()
    const warnings = lines.filter((l) => l['level'] === 40)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.['msg']).toMatch(
      /^no Docker engine at unix:\/\/\/var\/run\/docker.sock \(connect ECONNREFUSED .*\); running heartbeat-only$/
    )
    expect(sink.status).toMatchObject({ state: 'disabled', project: null })
    expect(sink.status?.detail).toMatch(/^no Docker engine at/)
  })

  it('DOCKER=auto with an engine but no project to watch: one warning, heartbeat-only', async () => {
    const { sink, lines, run } = create({})
    await expect(run()).resolves.toBeNull()
    expect(lines.filter((l) => l['level'] === 40).map((l) => l['msg'])).toEqual([
      'no compose project: set COMPOSE_PROJECT_NAME; running heartbeat-only',
    ])
    expect(sink.status?.state).toBe('disabled')
  })

  it('DOCKER=on without a project: one clear line, thrown', async () => {
    const { run } = create({ DOCKER: 'on' })
    await expect(run()).rejects.toThrow(
      /^DOCKER=on but not running in a compose container, so no compose project to watch: set COMPOSE_PROJECT_NAME$/
    )
  })

  it('DOCKER=on without an engine and without a project: says both', async () => {
    const { api, run } = create({ DOCKER: 'on' })
    api.down = true
    await expect(run()).rejects.toThrow(
      /^DOCKER=on but no Docker engine at .*ECONNREFUSED.*: set COMPOSE_PROJECT_NAME$/
    )
  })

  it('DOCKER=on with a project and the engine down for now: a source that keeps trying', async () => {
    const { api, sink, run } = create({ DOCKER: 'on', COMPOSE_PROJECT_NAME: 'clp' })
    api.down = true
    const source = await run()
    expect(source).not.toBeNull()
    expect(sink.status).toMatchObject({ state: 'connecting', project: 'clp' })
  })

  it('finds its project from its own container when COMPOSE_PROJECT_NAME is unset', async () => {
    const { api, sink, lines, run } = create({}, { self: inContainer })
    api.add(
      inspectInfo('bridge', {
        Id: OWN_ID,
        Config: { Labels: { 'com.docker.compose.project': 'clp-package' } },
      })
    )
    const source = await run()
    expect(source).not.toBeNull()
    expect(sink.status).toMatchObject({ state: 'connecting', project: 'clp-package' })
    const info = lines.find((l) => l['msg'] === 'watching compose project')
    expect(info).toMatchObject({
      project: 'clp-package',
      via: `label of own container ${OWN_ID.slice(0, 12)}`,
      api: '1.41',
    })
  })

  it('prefers COMPOSE_PROJECT_NAME and says so', async () => {
    const { api, lines, run } = create({ COMPOSE_PROJECT_NAME: 'other' }, { self: inContainer })
    await run()
    expect(api.calls).toEqual(['negotiate'])
    expect(lines.find((l) => l['msg'] === 'watching compose project')).toMatchObject({
      project: 'other',
      via: 'COMPOSE_PROJECT_NAME',
    })
  })
})
