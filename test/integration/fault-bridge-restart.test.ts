/**
 * The bridge itself restarts while services keep beating: the new bridge knows nothing yet, so a
 * service that CONFIG_FILE says must report is `starting` within STARTUP_GRACE, then `healthy` as
 * soon as its next beat lands. Never a false `unhealthy` burst that would page someone.
 * Two real bridges, one after the other, on the same port.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig, type Env } from '../../src/config/config.js'
import type { Status } from '../../src/model/status.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

const running: RunningBridge[] = []
afterAll(async () => {
  await Promise.all(running.map((b) => b.stop()))
})

function env(port: number): Env {
  const dir = mkdtempSync(join(tmpdir(), 'hb-restart-'))
  const file = join(dir, 'services.yaml')
  writeFileSync(file, 'services:\n  worker:\n    heartbeat: true\n  mailer:\n    heartbeat: true\n')
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    DOCKER: 'off',
    CONFIG_FILE: file,
    HEARTBEAT_TIMEOUT: '3s',
    STARTUP_GRACE: '3s',
  }
}

async function start(port: number): Promise<RunningBridge> {
  const bridge = await startBridge({
    config: loadConfig(env(port)),
    logger: memoryLogger('warn').logger,
  })
  running.push(bridge)
  return bridge
}

async function statuses(
  url: string
): Promise<{ overall: Status; services: Record<string, Status> }> {
  let res: Response
  try {
    res = await fetch(`${url}/health`)
  } catch {
    // A pooled keep-alive connection to the previous bridge: a poller simply asks again.
    res = await fetch(`${url}/health`)
  }
  const doc = (await res.json()) as {
    status: Status
    services: { name: string; status: Status }[]
  }
  return {
    overall: doc.status,
    services: Object.fromEntries(doc.services.map((s) => [s.name, s.status])),
  }
}

describe('a bridge restart while services keep beating', () => {
  it('shows starting, then healthy: never a false unhealthy', async () => {
    const first = await start(0)
    const port = first.port
    const url = first.url

    // Two services beat every 150 ms throughout; while the gate is shut they are between beats.
    const control = { gateOpen: true, sending: true }
    const sent = { ok: 0, failed: 0 }
    const sender = (async () => {
      while (control.sending) {
        if (control.gateOpen) {
          for (const service of ['worker', 'mailer']) {
            try {
              const res = await fetch(`${url}/health`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ service }),
              })
              await res.text()
              if (res.status === 202) sent.ok++
              else sent.failed++
            } catch {
              sent.failed++ // the bridge is down for a moment: a real sender just tries again
            }
          }
        }
        await new Promise((r) => setTimeout(r, 150))
      }
    })()

    try {
      await waitFor(async () => (await statuses(url)).overall === 'healthy', {
        what: 'first bridge healthy',
      })

      control.gateOpen = false
      await first.stop()
      const second = await start(port)
      expect(second.url).toBe(url)

      // Right after the restart nothing has reported yet: starting, not unhealthy.
      const seen: { overall: Status; services: Record<string, Status> }[] = [await statuses(url)]
      expect(seen[0]).toEqual({
        overall: 'starting',
        services: { worker: 'starting', mailer: 'starting' },
      })

      control.gateOpen = true
      await waitFor(
        async () => {
          const s = await statuses(url)
          seen.push(s)
          return s.overall === 'healthy'
        },
        { what: 'second bridge healthy', intervalMs: 10 }
      )
      for (const s of seen) {
        expect(['starting', 'healthy']).toContain(s.overall)
        for (const status of Object.values(s.services))
          expect(['starting', 'healthy']).toContain(status)
      }
      const history = (await (await fetch(`${url}/health/history`)).json()) as { to: Status }[]
      expect(history.filter((t) => t.to === 'unhealthy')).toEqual([])
    } finally {
      control.sending = false
      await sender
    }
    expect(sent.ok).toBeGreaterThan(0)
  })
})
