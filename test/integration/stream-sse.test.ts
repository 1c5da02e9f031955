/**
 * The event stream and the typed client over real HTTP against real bridges: long-lived streams
 * outlive REQUEST_TIMEOUT, shutdown ends them cleanly, the client follows a bridge through a
 * restart, and polling with the client's ETag reuse costs 304s.
 */
import { afterEach, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import {
  createHealthClient,
  subscribeHealth,
  type ConnectionState,
  type HealthDocument,
} from '../../src/client/index.js'
import { SseParser, type SseEvent } from '../../src/client/sse.js'
import { loadConfig } from '../../src/config/config.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

const running: RunningBridge[] = []
async function bridgeOn(
  env: Record<string, string> = {},
  opts: { drainMs?: number } = {}
): Promise<RunningBridge> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DOCKER: 'off', ...env })
  const bridge = await startBridge({ config, logger: memoryLogger('warn').logger, ...opts })
  running.push(bridge)
  return bridge
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.stop()))
})

async function beat(bridge: RunningBridge, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${bridge.url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(202)
}

/** A raw SSE reader over a real connection. */
async function openStream(url: string) {
  const res = await fetch(`${url}/health/stream`)
  expect(res.status).toBe(200)
  if (!res.body) throw new Error('no body')
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  const parser = new SseParser()
  const events: SseEvent[] = []
  let raw = ''
  let outcome: 'open' | 'ended' | Error = 'open'
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        raw += value
        events.push(...parser.push(value))
      }
      outcome = 'ended'
    } catch (err) {
      outcome = err as Error
    }
  })()
  return {
    events,
    raw: () => raw,
    outcome: () => outcome,
    cancel: () => reader.cancel(),
  }
}

const statusOf = (e: SseEvent | undefined) => (JSON.parse(e?.data ?? '{}') as HealthDocument).status

describe('GET /health/stream over real HTTP', () => {
  it('stays open past REQUEST_TIMEOUT and still delivers changes', async () => {
    const bridge = await bridgeOn({ REQUEST_TIMEOUT: '1s', HEADERS_TIMEOUT: '1s' })
    await beat(bridge, { service: 'api' })
    const stream = await openStream(bridge.url)
    await waitFor(() => stream.events.length === 1, { what: 'the first document' })
    // The property under test is elapsed time: three request timeouts (Node checks every second).
    await new Promise((r) => setTimeout(r, 3500))
    expect(stream.outcome()).toBe('open')
    await beat(bridge, { service: 'api', error: 'broken' })
    await waitFor(() => stream.events.length === 2, { what: 'the change' })
    expect(statusOf(stream.events[1])).toBe('unhealthy')
    await stream.cancel()
  })

  it('ends open streams cleanly when the bridge stops (an end, not a reset), without the drain timeout', async () => {
    // A drain timeout far longer than a clean stop could take: waiting for it would show.
    const bridge = await bridgeOn({}, { drainMs: 30_000 })
    const a = await openStream(bridge.url)
    const b = await openStream(bridge.url)
    await waitFor(() => a.events.length === 1 && b.events.length === 1, { what: 'first documents' })
    const started = Date.now()
    await bridge.stop()
    const took = Date.now() - started
    await waitFor(() => a.outcome() !== 'open' && b.outcome() !== 'open', {
      what: 'streams to end',
    })
    expect(a.outcome()).toBe('ended')
    expect(b.outcome()).toBe('ended')
    expect(a.raw()).toContain(': the bridge is shutting down')
    expect(took).toBeLessThan(30_000)
  })

  it('frees a stream slot when a client goes away (MAX_STREAMS=1)', async () => {
    const bridge = await bridgeOn({ MAX_STREAMS: '1' })
    const first = await openStream(bridge.url)
    await waitFor(() => first.events.length === 1)
    const refused = await fetch(`${bridge.url}/health/stream`)
    expect(refused.status).toBe(429)
    await refused.body?.cancel()
    await first.cancel()
    const again = await waitFor(
      async () => {
        const res = await fetch(`${bridge.url}/health/stream`)
        if (res.status === 200) return res
        await res.body?.cancel()
        return null
      },
      { what: 'the slot to be freed' }
    )
    await again.body?.cancel()
  })
})

describe('the typed client against a real bridge', () => {
  it('subscribeHealth follows the bridge through a restart, with Last-Event-ID', async () => {
    let bridge = await bridgeOn()
    const port = bridge.port
    await beat(bridge, { service: 'api' })
    const docs: HealthDocument[] = []
    const states: ConnectionState[] = []
    const sub = subscribeHealth({
      baseUrl: bridge.url,
      onHealth: (doc) => docs.push(doc),
      onState: (state) => states.push(state),
      random: () => 0,
    })
    try {
      await waitFor(() => docs.length === 1, { what: 'the first document' })
      expect(docs[0]?.services.map((s) => s.name)).toEqual(['api'])
      const firstId = sub.lastEventId
      expect(firstId).toMatch(/^W\//)

      await bridge.stop()
      running.splice(running.indexOf(bridge), 1)
      await waitFor(() => states.includes('reconnecting'), { what: 'the client to notice' })
      bridge = await bridgeOn({ PORT: String(port) })
      await beat(bridge, { service: 'db', error: 'down' })
      await waitFor(() => docs.some((d) => d.services.some((s) => s.name === 'db')), {
        what: 'the new bridge’s document',
        timeoutMs: 15_000,
      })
      expect(docs.at(-1)?.status).toBe('unhealthy')
      expect(sub.lastEventId).not.toBe(firstId)
      expect(states.filter((s) => s === 'open').length).toBeGreaterThanOrEqual(2)
    } finally {
      sub.close()
    }
    expect(states.at(-1)).toBe('closed')
  })

  it('fetchHealth revalidates with the ETag: 304 and the same document until something changes', async () => {
    const bridge = await bridgeOn()
    await beat(bridge, { service: 'api' })
    const client = createHealthClient({ baseUrl: bridge.url })
    const first = await client.fetchHealth()
    expect(first).toMatchObject({ httpStatus: 200, notModified: false })
    // A heartbeat that changes nothing a display draws keeps the ETag.
    await beat(bridge, { service: 'api' })
    const second = await client.fetchHealth()
    expect(second.notModified).toBe(true)
    expect(second.doc).toBe(first.doc)
    await beat(bridge, { service: 'api', error: 'broken' })
    const third = await waitFor(async () => {
      const s = await client.fetchHealth()
      return s.notModified ? null : s
    })
    expect(third.httpStatus).toBe(503)
    expect(third.doc.status).toBe('unhealthy')
  })
})
