/**
 * Logs an operator can live with: every status change of a service once, at info, with service,
 * from, to and reason; nothing per poll and nothing per routine heartbeat.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { T0 } from '../helpers/builders.js'
import { testApp } from '../helpers/app.js'

const INFO = 30

describe('transition logs', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function setup() {
    const { app, store, lines, post } = testApp({ HEARTBEAT_TIMEOUT: '30s' })
    const beat = async (body: Record<string, unknown>) => {
      expect((await post(body)).status).toBe(202)
    }
    const poll = async () => {
      for (const path of [
        '/health',
        '/health?service=api',
        '/health/ready',
        '/health/history',
        '/metrics',
      ]) {
        await (await app.request(path)).text()
      }
    }
    const changes = () => lines.filter((l) => l.msg === 'service status changed')
    return { store, beat, poll, lines, changes }
  }

  it('logs each change of a service once, at info, with service, from, to and reason', async () => {
    const { store, beat, poll, changes } = setup()
    await beat({ service: 'api' })
    await poll()
    vi.advanceTimersByTime(30_001)
    await poll()
    await poll()
    await beat({ service: 'api' })
    await poll()
    await beat({ service: 'api', error: 'database unreachable' })
    await poll()

    expect(changes().map((l) => [l.level, l.service, l.from, l.to, l.reason])).toEqual([
      [INFO, 'api', 'healthy', 'unhealthy', 'no heartbeat for more than 30s (last at 10:00:00Z)'],
      [INFO, 'api', 'unhealthy', 'healthy', expect.any(String)],
      [INFO, 'api', 'healthy', 'unhealthy', 'database unreachable'],
    ])
    store.close()
  })

  it('logs nothing per poll and nothing per routine heartbeat', async () => {
    const { store, beat, poll, lines } = setup()
    await beat({ service: 'api', instance: 'i1' })
    await poll()
    vi.advanceTimersByTime(2000)
    const settled = lines.length
    for (let i = 0; i < 100; i++) {
      await beat({ service: 'api', instance: 'i1', details: { n: i } })
      await poll()
      vi.advanceTimersByTime(100)
    }
    expect(lines.slice(settled)).toEqual([])
    store.close()
  })
})
