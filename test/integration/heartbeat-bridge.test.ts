/**
 * Issue 2's acceptance, over real HTTP against a real server: a dozen services heartbeating,
 * errors, silence flipping on time, jobs, configured services that never report, deregistration,
 * and a few hundred malformed requests that change nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import type { HealthDocument } from '../../src/wire/health-document.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

let bridge: RunningBridge
const TIMEOUT_MS = 1500

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-it-'))
  const file = join(dir, 'services.yaml')
  writeFileSync(
    file,
    'services:\n  compression-scheduler:\n    heartbeat: true\n  garbage-collector:\n    heartbeat: true\n    critical: false\n  query-scheduler:\n    heartbeatTimeout: 1500ms\n'
  )
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'off',
    // Long by default, so a loaded machine cannot make services stale mid-test; the service
    // whose timeout is under test has its own short one in the config file.
    HEARTBEAT_TIMEOUT: '60s',
    STARTUP_GRACE: '1s',
    CONFIG_FILE: file,
  })
  bridge = await startBridge({ config, logger: memoryLogger('warn').logger })
})

afterAll(async () => {
  await bridge.stop()
})

async function beat(body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${bridge.url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  })
}

async function doc(): Promise<HealthDocument> {
  return (await (await fetch(`${bridge.url}/health`)).json()) as HealthDocument
}

describe('a heartbeat-only bridge over real HTTP', () => {
  it('tracks a dozen services, errors, jobs and configured services that never report', async () => {
    for (let i = 0; i < 12; i++) {
      for (let n = 1; n <= 3; n++)
        expect((await beat({ service: `svc-${i}`, instance: `svc-${i}-${n}` })).status).toBe(202)
    }
    await beat({ service: 'reducer', error: 'failed to connect to database' })
    await beat({ service: 'db-table-creator', status: 'succeeded' })
    await beat({ service: 'results-cache-indices-creator', status: 'failed', error: 'exit 3' })
    const d = await doc()
    const by = new Map(d.services.map((s) => [s.name, s]))
    expect(by.get('svc-0')).toMatchObject({
      status: 'healthy',
      instances: [{ id: 'svc-0-1' }, { id: 'svc-0-2' }, { id: 'svc-0-3' }],
    })
    expect(by.get('reducer')).toMatchObject({
      status: 'unhealthy',
      message: 'failed to connect to database',
    })
    expect(by.get('db-table-creator')?.status).toBe('healthy')
    expect(by.get('results-cache-indices-creator')).toMatchObject({
      status: 'unhealthy',
      message: 'exit 3',
    })
    // Declared in the config file, never reported: starting within the grace period, then unhealthy.
    await waitFor(
      async () =>
        (await doc()).services.find((s) => s.name === 'compression-scheduler')?.status ===
        'unhealthy',
      { what: 'grace to end' }
    )
    const after = await doc()
    expect(after.services.find((s) => s.name === 'garbage-collector')).toMatchObject({
      status: 'unhealthy',
      critical: false,
    })
    expect(after.status).toBe('unhealthy')
  })

  it('flips a silent instance exactly at its timeout, seen by polling', async () => {
    const res = await beat({ service: 'query-scheduler', instance: 'qs-1' })
    const receivedAt = Date.parse(((await res.json()) as { receivedAt: string }).receivedAt)
    const deadline = receivedAt + TIMEOUT_MS
    // Poll across the deadline. A poll that starts before it must see healthy; one that starts
    // at or after it must see unhealthy: the flip is never late, whatever the machine's load.
    const polls: { startedAt: number; status: string; code: number }[] = []
    // Until a poll started at or after the deadline, however slow each poll is on a busy machine.
    while (!polls.some((p) => p.startedAt >= deadline) && Date.now() < deadline + 30_000) {
      const startedAt = Date.now()
      const r = await fetch(`${bridge.url}/health?service=query-scheduler`)
      polls.push({
        startedAt,
        status: ((await r.json()) as { status: string }).status,
        code: r.status,
      })
      await new Promise((r) => setTimeout(r, 5))
    }
    const early = polls.filter((p) => p.startedAt < deadline - 250)
    const late = polls.filter((p) => p.startedAt >= deadline)
    expect(early.length).toBeGreaterThan(0)
    expect(late.length).toBeGreaterThan(0)
    expect(early.every((p) => p.status === 'healthy' && p.code === 200)).toBe(true)
    expect(late.every((p) => p.status === 'unhealthy' && p.code === 503)).toBe(true)
    const text = await (
      await fetch(`${bridge.url}/health?service=query-scheduler&format=text`)
    ).text()
    expect(text).toMatch(
      /^query-scheduler unhealthy: no heartbeat for more than 1\.5s \(last at \d\d:\d\d:\d\dZ\)\n$/
    )
  })

  it('deregisters an instance', async () => {
    await beat({ service: 'worker', instance: 'w1' })
    await beat({ service: 'worker', instance: 'w2' })
    const del = await fetch(`${bridge.url}/health?service=worker&instance=w1`, { method: 'DELETE' })
    expect(del.status).toBe(204)
    expect(
      (await doc()).services.find((s) => s.name === 'worker')?.instances.map((i) => i.id)
    ).toEqual(['w2'])
  })

  it('answers hundreds of malformed requests with the contract 4xx and changes nothing', async () => {
    await beat({ service: 'stable', instance: 's1' })
    // What a rejected request must never change: the instances of the service it names, and what
    // each reported. (lastSeenAt moves: `stable` keeps beating so a loaded machine cannot make
    // it go stale during the loop.)
    const strip = (d: HealthDocument) =>
      JSON.stringify({
        services: d.services
          .filter((s) => s.name === 'stable')
          .map((s) => ({
            name: s.name,
            instances: s.instances.map((i) => ({
              id: i.id,
              reported: i.heartbeat?.reported,
              error: i.heartbeat?.error,
              details: i.heartbeat?.details,
            })),
          })),
      })
    const before = strip(await doc())
    const bad: [unknown, RequestInit, number][] = [
      ['{not json', {}, 400],
      ['', {}, 400],
      ['null', {}, 400],
      ['"string"', {}, 400],
      [{ service: 1 }, {}, 400],
      [{ service: 'stable', instance: 's1', status: 'great' }, {}, 400],
      [{ service: 'stable', instance: 's1', details: 'x' }, {}, 400],
      [{ service: 'stable', instance: 's1', error: 'e'.repeat(2000) }, {}, 400],
      [{ service: '💥' }, {}, 400],
      [{ service: 'stable', instance: 's1' }, { headers: { 'content-type': 'text/plain' } }, 415],
      [{ service: 'stable', instance: 's1' }, { headers: {} }, 415],
      [{ service: 'stable', instance: 's1', error: 'x'.repeat(40_000) }, {}, 413],
      ['\u0000\u0001\u0002', {}, 400],
      [
        JSON.stringify({
          service: 'stable',
          instance: 's1',
          details: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } },
        }),
        {},
        400,
      ],
    ]
    let count = 0
    for (let round = 0; round < 20; round++) {
      await beat({ service: 'stable', instance: 's1' })
      for (const [body, init, status] of bad) {
        const res = await beat(body, init)
        expect(res.status).toBe(status)
        const err = (await res.json()) as { error: string; message: string }
        expect(err.message.length).toBeGreaterThan(10)
        count++
      }
    }
    expect(count).toBeGreaterThanOrEqual(250)
    expect((await fetch(`${bridge.url}/health/live`)).status).toBe(200)
    await beat({ service: 'stable', instance: 's1' })
    expect(strip(await doc())).toBe(before)
    expect((await doc()).services.find((s) => s.name === 'stable')?.status).toBe('healthy')
  })
})
