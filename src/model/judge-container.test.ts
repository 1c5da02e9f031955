import { describe, expect, it } from 'vitest'

import { T0, container, following, m, modelConfig, s } from '../../test/helpers/builders.js'

import { judge } from './judge.js'
import { judgeContainer } from './judge-container.js'
import type { ContainerObservation } from './observations.js'
import type { ServiceSettings } from './settings.js'

const service: ServiceSettings = {
  kind: 'service',
  critical: true,
  heartbeatExpected: false,
  heartbeatTimeoutMs: s(30),
  jobTimeoutMs: null,
  dependsOn: [],
  ignored: false,
}

const config = modelConfig({
  crashloopRestarts: 2,
  crashloopWindowMs: m(15),
  crashloopStableAfterMs: m(5),
})

const at = (c: ContainerObservation, now: number) => judgeContainer(c, service, config, now)

describe('a crash loop that was fixed (CRASHLOOP_STABLE_AFTER)', () => {
  // Three crashes, then the cause was fixed and `docker start` (RestartCount back to 0) at 09:59.
  const fixed = container('worker', {
    restartCount: 0,
    restarts: [T0 - m(3), T0 - m(2), T0 - m(1)],
    startedAt: T0 - m(1),
  })

  it('stays crash-looping until it has run that long, with a message that does not tick', () => {
    const now = at(fixed, T0)
    expect(now).toEqual({
      status: 'unhealthy',
      message: 'crash-looping: 3 restarts in 15m (up since 09:59:00Z)',
      // Up since T0 - 1m, stable 5m later; earlier than the oldest restart ageing out (T0 + 12m).
      until: T0 + m(4),
    })
    expect(at(fixed, T0 + m(4) - 1)).toEqual(now)
  })

  it('is no longer crash-looping exactly on time, and says what it is instead', () => {
    expect(at(fixed, T0 + m(4))).toEqual({
      status: 'healthy',
      message: 'running',
      // The restarts still count in `recentRestarts` until they age out.
      until: T0 + m(12),
    })
    const healthy = { ...fixed, health: 'healthy' as const }
    expect(at(healthy, T0 + m(4)).message).toBe('healthcheck passing')
  })

  it('tells the store when to flip: the next deadline is the stable instant', () => {
    const j = judge(
      { containers: [fixed], heartbeats: [], docker: following(), bridgeStartedAt: T0 - m(10) },
      config,
      T0
    )
    expect(j.nextDeadline).toBe(T0 + m(4))
    expect(j.status).toBe('unhealthy')
    const later = judge(
      { containers: [fixed], heartbeats: [], docker: following(), bridgeStartedAt: T0 - m(10) },
      config,
      T0 + m(4)
    )
    expect(later.status).toBe('healthy')
  })

  it('is crash-looping again when it crashes after the flip', () => {
    const again = { ...fixed, restarts: [...fixed.restarts, T0 + m(6)], startedAt: T0 + m(6) }
    expect(at(again, T0 + m(6) + s(1))).toMatchObject({
      status: 'unhealthy',
      message: 'crash-looping: 4 restarts in 15m (up since 10:06:00Z)',
      until: T0 + m(11),
    })
  })

  it('counts from the last restart when that came after the last start', () => {
    const restarted = { ...fixed, startedAt: T0 - m(2) - s(30) }
    expect(at(restarted, T0).message).toBe('crash-looping: 3 restarts in 15m (up since 09:59:00Z)')
  })

  it('never forgives a container that is restarting: it is not running', () => {
    const restarting = { ...fixed, state: 'restarting' as const }
    expect(at(restarting, T0 + m(10))).toEqual({
      status: 'unhealthy',
      message: 'crash-looping: 3 restarts in 15m',
      until: T0 + m(12),
    })
  })

  it('ends when the restarts age out, if that comes first', () => {
    const long = modelConfig({ ...config, crashloopStableAfterMs: m(30) })
    const v = judgeContainer(fixed, service, long, T0)
    // Two restarts are left once the oldest ages out at T0 + 12m: still looping until T0 + 13m.
    expect(v.until).toBe(T0 + m(12))
    expect(judgeContainer(fixed, service, long, T0 + m(13))).toMatchObject({
      status: 'healthy',
      message: 'running',
    })
  })
})

describe('a healthcheck that Docker still calls unhealthy after an unpause', () => {
  // Docker set `unhealthy` when the pause stopped the health monitor, with no failed probe, and
  // keeps it until its next probe (30 s with CLP's timings); the last probe in the log passed.
  const unpaused = container('api', {
    health: 'unhealthy',
    failingStreak: 0,
    lastProbeOutput: 'PONG',
    lastProbeExitCode: 0,
  })

  it('says what is known instead of quoting a probe that passed as the failure', () => {
    expect(at(unpaused, T0)).toEqual({
      status: 'unhealthy',
      message: "healthcheck unhealthy; the last probe passed (waiting for Docker's next probe)",
      until: null,
    })
  })

  it('still quotes a failing probe', () => {
    const failing = {
      ...unpaused,
      failingStreak: 3,
      lastProbeOutput: 'refused',
      lastProbeExitCode: 1,
    }
    expect(at(failing, T0).message).toBe('healthcheck failing (3 in a row): refused')
  })
})
