import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { inspectInfo } from '../../../test/helpers/docker-fake-api.js'

import {
  dockerTime,
  inspectSchema,
  mapContainer,
  MAX_PROBE_OUTPUT,
  nextRestarts,
} from './map-container.js'

const fixture = (name: string) =>
  inspectSchema.parse(
    JSON.parse(
      readFileSync(new URL(`../../../test/fixtures/docker/${name}`, import.meta.url), 'utf8')
    )
  )
const opts = { now: Date.parse('2026-11-21T16:10:00Z'), crashloopWindowMs: 15 * 60_000 }

describe('inspectSchema', () => {
  it('drops everything it does not read: environment, mounts, the rest of the document', () => {
    const raw = readFileSync(
      new URL('../../../test/fixtures/docker/inspect-unhealthy.json', import.meta.url),
      'utf8'
    )
    expect(raw).toContain('do-not-leak-me')
    const parsed = inspectSchema.parse(JSON.parse(raw))
    expect(JSON.stringify(parsed)).not.toContain('do-not-leak-me')
    expect(Object.keys(parsed.Config)).toEqual(['Hostname', 'Labels'])
    expect(parsed).not.toHaveProperty('Mounts')
    expect(parsed).not.toHaveProperty('HostConfig')
  })

  it('accepts an unknown state from a future engine instead of dropping the container', () => {
    const raw = {
      ...inspectInfo('web'),
      State: { ...inspectInfo('web').State, Status: 'hibernating' },
    }
    expect(inspectSchema.parse(raw).State.Status).toBe('dead')
  })
})

describe('mapContainer', () => {
  it('maps a recorded unhealthy container', () => {
    const { observation, labelProblems } = mapContainer(
      fixture('inspect-unhealthy.json'),
      undefined,
      opts
    )
    expect(labelProblems).toEqual([])
    expect(observation).toMatchObject({
      name: 'fixture1-web-1',
      service: 'web',
      number: 1,
      oneoff: false,
      state: 'running',
      health: 'unhealthy',
      failingStreak: 3,
      lastProbeOutput: 'probe failed: no /tmp/ok',
      lastProbeExitCode: 1,
      exitCode: null,
      oomKilled: false,
      restartCount: 0,
      restarts: [],
      finishedAt: null,
      labels: { role: 'service' },
      dependsOn: [
        { service: 'db', condition: 'service_healthy' },
        { service: 'init', condition: 'service_completed_successfully' },
      ],
    })
    expect(observation.id).toMatch(/^[0-9a-f]{64}$/)
    expect(observation.hostname).toBe(observation.id.slice(0, 12))
    expect(observation.ips).toHaveLength(1)
    expect(observation.startedAt).toBe(Date.parse('2026-11-21T16:05:00.599Z'))
    expect(JSON.stringify(observation)).not.toContain('do-not-leak-me')
  })

  it('maps a recorded job that exited 3', () => {
    const { observation } = mapContainer(fixture('inspect-exited.json'), undefined, opts)
    expect(observation).toMatchObject({
      state: 'exited',
      exitCode: 3,
      health: 'none',
      number: null,
    })
    expect(observation.finishedAt).not.toBeNull()
    expect(observation.lastProbeOutput).toBeNull()
    expect(observation.lastProbeExitCode).toBeNull()
  })

  it('records whether the last probe passed: unpaused, Docker says unhealthy until its next one', () => {
    const unpaused = inspectInfo('web', {
      State: {
        Health: {
          Status: 'unhealthy',
          FailingStreak: 0,
          Log: [
            { Output: 'refused', ExitCode: 1 },
            { Output: 'PONG\n', ExitCode: 0 },
          ],
        },
      },
    })
    expect(mapContainer(unpaused, undefined, opts).observation).toMatchObject({
      health: 'unhealthy',
      failingStreak: 0,
      lastProbeOutput: 'PONG',
      lastProbeExitCode: 0,
    })
  })

  it('counts the last start of a container first seen with restarts behind it as one restart', () => {
    const { observation } = mapContainer(fixture('inspect-restarted.json'), undefined, opts)
    expect(observation.restartCount).toBe(2)
    expect(observation.restarts).toEqual([observation.startedAt])
  })

  it('says exitCode null for a container that never exited, whatever ExitCode says', () => {
    const created = inspectInfo('web', {
      State: {
        Status: 'created',
        StartedAt: '0001-01-01T00:00:00Z',
        FinishedAt: '0001-01-01T00:00:00Z',
      },
    })
    expect(mapContainer(created, undefined, opts).observation).toMatchObject({
      state: 'created',
      exitCode: null,
      startedAt: null,
      finishedAt: null,
    })
  })

  it('keeps the exit code of the last run of a running container', () => {
    const restarted = inspectInfo('web', {
      State: { Status: 'running', ExitCode: 1, FinishedAt: '2026-11-21T10:00:00.5Z' },
    })
    expect(mapContainer(restarted, undefined, opts).observation.exitCode).toBe(1)
  })

  it('reads OOM kills, paused and one-off containers', () => {
    const oom = inspectInfo('web', {
      State: {
        Status: 'exited',
        ExitCode: 137,
        OOMKilled: true,
        FinishedAt: '2026-11-21T10:00:02Z',
      },
    })
    expect(mapContainer(oom, undefined, opts).observation).toMatchObject({
      oomKilled: true,
      exitCode: 137,
    })
    const run = inspectInfo('web', { Config: { Labels: { 'com.docker.compose.oneoff': 'True' } } })
    expect(mapContainer(run, undefined, opts).observation.oneoff).toBe(true)
  })

  it('reports bad health-bridge labels instead of failing', () => {
    const info = inspectInfo('web', { Config: { Labels: { 'health-bridge.critical': 'maybe' } } })
    const mapped = mapContainer(info, undefined, opts)
    expect(mapped.observation.labels).toEqual({})
    expect(mapped.labelProblems).toEqual(['health-bridge.critical="maybe": expected true or false'])
  })

  it('trims probe output and caps it', () => {
    const health = (output: string) =>
      inspectInfo('web', {
        State: {
          Health: {
            Status: 'unhealthy',
            FailingStreak: 2,
            Log: [{ Output: 'old' }, { Output: output }],
          },
        },
      })
    expect(mapContainer(health('  refused\n'), undefined, opts).observation).toMatchObject({
      health: 'unhealthy',
      failingStreak: 2,
      lastProbeOutput: 'refused',
    })
    const long = mapContainer(health('x'.repeat(5000)), undefined, opts).observation.lastProbeOutput
    expect(long?.length).toBe(MAX_PROBE_OUTPUT + 3)
  })

  it('keeps secrets of the container out of probe output, and a progress meter to its last frame', () => {
    const raw = {
      Id: 'a'.repeat(64),
      Name: '/clp-package-database-1',
      Config: {
        Hostname: 'database',
        Labels: { 'com.docker.compose.service': 'database' },
        Env: ['MYSQL_PASSWORD=s3cr3t-db-pass', 'TZ=UTC', 'EMPTY='],
        Healthcheck: {
          Test: [
            'CMD-SHELL',
            'mysqladmin ping -u clp --password=probe-only-pw || redis-cli -a r3dis-pw PING',
          ],
        },
      },
      State: {
        Status: 'running',
        Health: {
          Status: 'unhealthy',
          FailingStreak: 3,
          Log: [
            {
              Output:
                '  % Total  0\r100  12  0\rcurl: (7) refused\nmysqladmin --password=probe-only-pw: access denied for s3cr3t-db-pass (r3dis-pw) in UTC',
              ExitCode: 1,
            },
          ],
        },
      },
    }
    const out = mapContainer(inspectSchema.parse(raw), undefined, opts).observation.lastProbeOutput
    expect(out).toBe(
      'curl: (7) refused\nmysqladmin --password=<redacted>: access denied for <redacted> (<redacted>) in UTC'
    )
    // The environment itself is never part of what the bridge keeps.
    expect(JSON.stringify(mapContainer(inspectSchema.parse(raw), undefined, opts))).not.toMatch(
      /s3cr3t|probe-only|r3dis/
    )
  })

  it('falls back to the container name when the service label is missing', () => {
    const info = inspectInfo('web', { Name: '/lonely', Config: { Labels: {} } })
    info.Config.Labels = { 'com.docker.compose.project': 'proj' }
    expect(mapContainer(info, undefined, opts).observation).toMatchObject({
      name: 'lonely',
      service: 'lonely',
    })
  })
})

describe('nextRestarts', () => {
  const at = (iso: string) => Date.parse(iso)
  const started = at('2026-11-21T16:09:00Z')
  const finished = at('2026-11-21T16:09:30Z')

  it.each([
    { desc: 'first sight, never restarted', prior: undefined, count: 0, out: [] },
    { desc: 'first sight, restarted before', prior: undefined, count: 4, out: [started] },
    {
      desc: 'count unchanged',
      prior: { restartCount: 1, restarts: [started] },
      count: 1,
      out: [started],
    },
    {
      desc: 'a policy restart',
      prior: { restartCount: 1, restarts: [started] },
      count: 2,
      out: [started, finished],
    },
    {
      desc: 'two restarts while we looked away',
      prior: { restartCount: 0, restarts: [] },
      count: 2,
      out: [finished, finished],
    },
    {
      desc: 'a manual start reset the count',
      prior: { restartCount: 3, restarts: [started] },
      count: 0,
      out: [started],
    },
    {
      desc: 'only a restart event was seen so far',
      prior: { restartCount: null, restarts: [finished] },
      count: 1,
      out: [started, finished],
    },
    {
      desc: 'restarts older than the window age out',
      prior: { restartCount: 1, restarts: [at('2026-11-21T15:00:00Z')] },
      count: 1,
      out: [],
    },
  ])('$desc', ({ prior, count, out }) => {
    expect(nextRestarts(prior, count, started, finished, opts)).toEqual(out)
  })
})

describe('dockerTime', () => {
  it.each([
    { raw: '2026-11-21T16:05:00.599505263Z', ms: Date.parse('2026-11-21T16:05:00.599Z') },
    { raw: '2026-11-21T17:05:00.5+01:00', ms: Date.parse('2026-11-21T16:05:00.500Z') },
    { raw: '0001-01-01T00:00:00Z', ms: null },
    { raw: '', ms: null },
    { raw: undefined, ms: null },
    { raw: 'yesterday', ms: null },
  ])('$raw', ({ raw, ms }) => {
    expect(dockerTime(raw)).toBe(ms)
  })
})
