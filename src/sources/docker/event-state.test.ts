import { describe, expect, it } from 'vitest'

import { T0, container, modelConfig } from '../../../test/helpers/builders.js'

import { judgeContainer } from '../../model/judge-container.js'
import type { ServiceSettings } from '../../model/settings.js'

import { observedBy } from './event-state.js'
import type { ContainerEvent } from './events.js'

const event = (
  action: ContainerEvent['action'],
  over: Partial<ContainerEvent> = {}
): ContainerEvent => ({
  action,
  id: 'a'.repeat(64),
  timeNano: (T0 + 5000) * 1e6,
  at: T0 + 5000,
  exitCode: null,
  health: null,
  ...over,
})

describe('what an event says of its container', () => {
  const healthy = container('web', { health: 'healthy', failingStreak: 0, startedAt: T0 })

  it('die: exited, with the exit code the event carries', () => {
    expect(observedBy(event('die', { exitCode: 137 }), healthy)).toMatchObject({
      state: 'exited',
      exitCode: 137,
      finishedAt: T0 + 5000,
    })
  })

  it('start: running again, health back to starting (no health event says so)', () => {
    const dead = {
      ...healthy,
      state: 'exited' as const,
      health: 'unhealthy' as const,
      failingStreak: 3,
    }
    expect(observedBy(event('start'), dead)).toMatchObject({
      state: 'running',
      startedAt: T0 + 5000,
      health: 'starting',
      failingStreak: 0,
      lastProbeOutput: null,
    })
    const noCheck = { ...dead, health: 'none' as const }
    expect(observedBy(event('start'), noCheck)?.health).toBe('none')
  })

  it('pause, unpause, oom and health_status', () => {
    expect(observedBy(event('pause'), healthy)?.state).toBe('paused')
    expect(observedBy(event('unpause'), { ...healthy, state: 'paused' })?.state).toBe('running')
    expect(observedBy(event('oom'), healthy)?.oomKilled).toBe(true)
    expect(observedBy(event('health_status', { health: 'unhealthy' }), healthy)?.health).toBe(
      'unhealthy'
    )
  })

  it('health_status unhealthy: never quotes the last probe, which passed, as the failure', () => {
    // The event carries no probe output; the last one known passed (that is why it was healthy).
    const passed = { ...healthy, lastProbeExitCode: 0, lastProbeOutput: 'ok' }
    const failing = observedBy(event('health_status', { health: 'unhealthy' }), passed)
    expect(failing).toMatchObject({ health: 'unhealthy', lastProbeExitCode: null })
    expect(failing?.lastProbeOutput).toBeNull()
    const settings: ServiceSettings = {
      kind: 'service',
      critical: true,
      heartbeatExpected: false,
      heartbeatTimeoutMs: 30_000,
      jobTimeoutMs: null,
      dependsOn: [],
      ignored: false,
    }
    if (failing === null) throw new Error('the event said nothing')
    expect(judgeContainer(failing, settings, modelConfig(), T0 + 5000).message).toBe(
      'healthcheck failing'
    )
  })

  it('says nothing where only an inspect can (kill, rename, an unchanged health)', () => {
    expect(observedBy(event('kill'), healthy)).toBeNull()
    expect(observedBy(event('rename'), healthy)).toBeNull()
    expect(observedBy(event('health_status', { health: 'healthy' }), healthy)).toBeNull()
  })
})
