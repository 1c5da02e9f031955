import { afterEach, describe, expect, it, vi } from 'vitest'

import { loadConfig } from '../../config/config.js'
import { FakeDockerApi, inspectInfo, RecordingSink } from '../../../test/helpers/docker-fake-api.js'
import { memoryLogger } from '../../../test/helpers/log-sink.js'

import { DockerApiError } from './docker-api.js'
import { createDockerSource, type DockerSourceDeps } from './index.js'
import type { HealthSource } from '../source.js'

const OWN_ID = 'b'.repeat(64)
const notInContainer = { hostname: 'devbox', readFile: () => Promise.resolve(undefined) }
const inContainer = {
  hostname: OWN_ID.slice(0, 12),
  readFile: (path: string) =>
    Promise.resolve(
      path === '/proc/self/cgroup' ? `0::/system.slice/docker-${OWN_ID}.scope\n` : undefined
    ),
}

/** The search, without jitter and with a fixed step, so fake timers can step through it. */
const SEARCH = { initialMs: 100, factor: 1, maxMs: 100, jitter: 0 }

const running: HealthSource[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()))
  vi.useRealTimers()
})

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
      searchBackoff: SEARCH,
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

  it('DOCKER=auto without an engine: one warning, heartbeat-only, and it keeps looking', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, lines, run } = create({ COMPOSE_PROJECT_NAME: 'p' })
    api.down = true
    const source = await run()
    if (source === null) throw new Error('expected a source that keeps looking')
    running.push(source)
    const warnings = () => lines.filter((l) => l['level'] === 40)
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]?.['msg']).toBe(
      'no Docker engine; running heartbeat-only, looking for one in the background'
    )
    // `disabled`, so an engine that was never there does not hold the overall status down.
    expect(sink.status).toMatchObject({ state: 'disabled', project: null, unreachableSince: null })
    expect(sink.status?.detail).toMatch(
      /^no Docker engine at unix:\/\/\/var\/run\/docker.sock \(connect ECONNREFUSED .*\); heartbeat-only until one answers \(DOCKER=auto\)$/
    )
    source.start()
    await vi.advanceTimersByTimeAsync(SEARCH.initialMs * 3)
    expect(api.count('negotiate')).toBe(4)
    // Still looking: the status is not pushed again (same bytes), and no more warnings.
    expect(sink.statuses).toHaveLength(1)
    expect(warnings()).toHaveLength(1)
    api.down = false
    await vi.advanceTimersByTimeAsync(SEARCH.initialMs)
    expect(sink.states()).toEqual(['disabled', 'connecting', 'syncing', 'following'])
    expect(sink.status).toMatchObject({ project: 'p', synced: true })
    expect(
      lines.filter((l) => l['msg'] === 'docker engine appeared; watching compose project')
    ).toHaveLength(1)
    await source.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('DOCKER=auto: an engine that appears without a project to watch ends the search', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, lines, run } = create({})
    api.down = true
    const source = await run()
    if (source === null) throw new Error('expected a source that keeps looking')
    running.push(source)
    source.start()
    api.down = false
    await vi.advanceTimersByTimeAsync(SEARCH.initialMs)
    expect(sink.status).toMatchObject({
      state: 'disabled',
      detail: 'no compose project: set COMPOSE_PROJECT_NAME',
    })
    expect(lines.filter((l) => l['level'] === 40).map((l) => l['msg'])).toEqual([
      'no Docker engine; running heartbeat-only, looking for one in the background',
      'no compose project: set COMPOSE_PROJECT_NAME; running heartbeat-only',
    ])
    const looks = api.count('negotiate')
    await vi.advanceTimersByTimeAsync(SEARCH.initialMs * 10)
    expect(api.count('negotiate')).toBe(looks)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('DOCKER=auto: says when the reason changes while looking, and stops looking on stop', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, run } = create({ COMPOSE_PROJECT_NAME: 'p' })
    api.down = true
    const source = await run()
    if (source === null) throw new Error('expected a source that keeps looking')
    running.push(source)
    source.start()
    api.down = false
    api.failNext.set(
      'negotiate',
      new DockerApiError('connect EACCES /var/run/docker.sock', 'unreachable')
    )
    await vi.advanceTimersByTimeAsync(SEARCH.initialMs)
    expect(sink.status?.detail).toMatch(/\(connect EACCES \/var\/run\/docker.sock\)/)
    expect(sink.status?.state).toBe('disabled')
    api.down = true
    await source.stop()
    expect(vi.getTimerCount()).toBe(0)
    const looks = api.count('negotiate')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(api.count('negotiate')).toBe(looks)
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
