/**
 * Clients that stop reading cost the bridge a bounded amount of memory and nothing else: a
 * stream client is dropped once SSE_MAX_QUEUED_BYTES are queued for it, and its connection is
 * let go at once (not kept until it reads the queue); a hundred of them at once stay within the
 * documented bound; a poller that pipelines requests and never reads its answers is not read
 * further, and is closed after SEND_TIMEOUT. Everyone else meanwhile gets every change and every
 * answer. The bridge is a real process: its memory and its connections are read from /proc.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { SSE_MAX_QUEUED_BYTES } from '../../src/stream/hub.js'
import {
  ensureBuilt,
  killBridgeProcesses,
  startBridgeProcess,
  type BridgeProcess,
} from '../helpers/bridge-process.js'
import { freePort } from '../helpers/compose.js'
import {
  heldClientPorts,
  holdsConnection,
  neverReadingClient,
  readingStream,
  rssMiB,
  stalledClient,
  type StalledClient,
} from '../helpers/slow-clients.js'
import { waitFor } from '../helpers/wait-for.js'

/** Instances, each with a padded `details`: a document of about 180 KiB, so bytes pile up fast. */
const INSTANCES = 400
const MiB = 1024 * 1024

beforeAll(async () => {
  await ensureBuilt()
}, 180_000)

// Whatever a failed test left running.
afterAll(async () => {
  await killBridgeProcesses()
})

interface Bridge extends BridgeProcess {
  port: number
}

async function bridgeWith(env: Record<string, string>): Promise<Bridge> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const p = await startBridgeProcess({
    url,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      DOCKER: 'off',
      HEARTBEAT_TIMEOUT: '1h',
      LOG_LEVEL: 'info',
      ...env,
    },
  })
  return Object.assign(p, { port })
}

const ref = (i: number) => ({ service: `svc-${Math.floor(i / 25)}`, instance: `inst-${i}` })

async function beat(bridge: Bridge, i: number, error?: string, pad = 300): Promise<void> {
  const res = await fetch(`${bridge.url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...ref(i),
      ...(error ? { error } : {}),
      details: { pad: 'x'.repeat(pad) },
    }),
  })
  await res.text()
  if (res.status !== 202) throw new Error(`heartbeat answered ${res.status}`)
}

async function populate(bridge: Bridge, pad?: number): Promise<void> {
  for (let i = 0; i < INSTANCES; i += 40) {
    await Promise.all(Array.from({ length: 40 }, (_, k) => beat(bridge, i + k, undefined, pad)))
  }
}

/** The current document's ETag, what every stream event's id is. */
async function etag(bridge: Bridge): Promise<string> {
  const res = await fetch(`${bridge.url}/health`, { method: 'HEAD' })
  return res.headers.get('etag') ?? ''
}

/**
 * Flips instances healthy/unhealthy one change at a time until `enough()`, or `max` changes;
 * returns the ETag after each change (what a reading stream client must all see).
 */
async function drive(
  bridge: Bridge,
  enough: () => boolean,
  { max = 400, every }: { max?: number; every?: () => Promise<void> } = {}
): Promise<string[]> {
  const tags: string[] = []
  for (let n = 0; n < max && !enough(); n++) {
    await beat(bridge, n % INSTANCES, n % 2 === 0 ? 'connection refused' : undefined)
    tags.push(await etag(bridge))
    await every?.()
  }
  return tags
}

const logLines = (b: Bridge) =>
  b
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
const counted = (msg: string) => (b: Bridge) => logLines(b).filter((l) => l['msg'] === msg).length
const drops = counted('stream dropped: the client is not reading')
const pipelineCuts = counted(
  'connection closed: too many pipelined requests unanswered (the client is not reading)'
)

const STREAM_FULL =
  'GET /health/stream?full=1 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n'

describe('a stream client that stops reading', () => {
  let bridge: Bridge
  let slow: StalledClient | undefined
  beforeAll(async () => {
    bridge = await bridgeWith({ MAX_STREAMS: '2' })
  })
  afterAll(async () => {
    slow?.socket.destroy()
    await bridge.stop()
  })

  it('is dropped past the queue bound, its connection and slot freed, while a reading client gets every change', async () => {
    await populate(bridge)
    const healthy = await readingStream(`${bridge.url}/health/stream`)
    try {
      // Whole documents on every change: its queue fills fastest.
      slow = await stalledClient(bridge.port, STREAM_FULL)
      expect(slow.head).toMatch(/^HTTP\/1\.1 200/)
      expect((await fetch(`${bridge.url}/health/stream`)).status).toBe(429)

      const tags = await drive(bridge, () => drops(bridge) > 0)
      expect(drops(bridge)).toBe(1)
      // It was dropped for its queue, not sooner: at least the bound went out for it.
      expect(tags.length * 180 * 1024).toBeGreaterThan(SSE_MAX_QUEUED_BYTES)

      // The bridge lets go of the connection while the client still does not read: the queued
      // megabytes are not kept for a client that may never come back.
      const s = slow
      await waitFor(() => !holdsConnection(bridge.pid, bridge.port, s.localPort), {
        what: 'the bridge to close the dropped connection',
      })
      // Its MAX_STREAMS slot is free.
      const again = await fetch(`${bridge.url}/health/stream`)
      expect(again.status).toBe(200)
      await again.body?.cancel()

      const last = tags.at(-1) ?? ''
      await waitFor(() => healthy.ids.includes(last), { what: 'the reading client to catch up' })
      expect(tags.filter((t) => !healthy.ids.includes(t))).toEqual([])
    } finally {
      healthy.close()
    }
  })
})

describe('100 stream clients that stop reading at once', () => {
  it('stay within the documented memory bound; GET /health and a reading client are unaffected', async () => {
    const bridge = await bridgeWith({ MAX_STREAMS: '101' })
    const stalled: StalledClient[] = []
    try {
      await populate(bridge)
      const healthy = await readingStream(`${bridge.url}/health/stream`)
      const before = rssMiB(bridge.pid)
      for (let i = 0; i < 100; i++) stalled.push(await stalledClient(bridge.port, STREAM_FULL))
      expect(stalled.every((c) => c.head.startsWith('HTTP/1.1 200'))).toBe(true)

      let peak = 0
      let polls = 0
      const tags = await drive(bridge, () => drops(bridge) >= 100, {
        every: async () => {
          peak = Math.max(peak, rssMiB(bridge.pid))
          const res = await fetch(`${bridge.url}/health`)
          await res.arrayBuffer()
          expect(res.status).toBe(200)
          polls++
        },
      })
      expect(drops(bridge)).toBe(100)
      await waitFor(
        () => {
          const held = heldClientPorts(bridge.pid, bridge.port)
          return stalled.every((c) => !held.has(c.localPort))
        },
        { what: 'the bridge to close all 100 dropped connections' }
      )
      // The documented bound: SSE_MAX_QUEUED_BYTES per stream (4 MiB each, 400 MiB for 100),
      // plus one event each. Queued events are shared between streams, so far less is used.
      const bound = (100 * (SSE_MAX_QUEUED_BYTES + 256 * 1024)) / MiB
      expect(peak - before).toBeLessThan(bound)
      expect(polls).toBe(tags.length)

      const last = tags.at(-1) ?? ''
      await waitFor(() => healthy.ids.includes(last), { what: 'the reading client to catch up' })
      expect(tags.filter((t) => !healthy.ids.includes(t))).toEqual([])
      healthy.close()
    } finally {
      for (const c of stalled) c.socket.destroy()
    }
  })
})

describe('a poller that never reads its answers', () => {
  let bridge: Bridge
  beforeAll(async () => {
    bridge = await bridgeWith({ SEND_TIMEOUT: '6s' })
    // 1.3 MiB documents: a few answers fill every buffer between the bridge and the client.
    await populate(bridge, 3000)
  })
  afterAll(async () => {
    await bridge.stop()
  })

  it('pipelining thousands of requests: closed past the bound, memory flat, others answered', async () => {
    const before = rssMiB(bridge.pid)
    const pollers = await Promise.all(
      Array.from({ length: 10 }, () => neverReadingClient(bridge.port))
    )
    try {
      // 20,000 GET /health each: the bridge must not parse, answer and hold them all.
      const request = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(1000)
      for (let i = 0; i < 20; i++) for (const p of pollers) p.write(request)
      let peak = 0
      for (let i = 0; i < 10; i++) {
        peak = Math.max(peak, rssMiB(bridge.pid))
        const res = await fetch(`${bridge.url}/health`)
        await res.arrayBuffer()
        expect(res.status).toBe(200)
      }
      await waitFor(
        () => {
          const held = heldClientPorts(bridge.pid, bridge.port)
          return pollers.every((p) => !held.has(p.localPort ?? -1))
        },
        { what: 'the bridge to close the pollers' }
      )
      peak = Math.max(peak, rssMiB(bridge.pid))
      // Unbounded, this was ~30 MB per poller, every poller held until SEND_TIMEOUT.
      expect(peak - before).toBeLessThan(64)
      expect(pipelineCuts(bridge)).toBe(10)
    } finally {
      for (const p of pollers) p.destroy()
    }
  })

  it('a few requests, then no reading: closed after SEND_TIMEOUT, while a reading stream lives on', async () => {
    const stream = await readingStream(`${bridge.url}/health/stream`)
    const poller = await neverReadingClient(bridge.port)
    try {
      poller.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(8))
      const port = poller.localPort ?? -1
      await waitFor(() => holdsConnection(bridge.pid, bridge.port, port), {
        what: 'the connection',
      })
      const res = await fetch(`${bridge.url}/health`)
      await res.arrayBuffer()
      expect(res.status).toBe(200)
      await waitFor(() => !holdsConnection(bridge.pid, bridge.port, port), {
        what: 'the bridge to close the stalled poller (SEND_TIMEOUT 6s)',
        timeoutMs: 20_000,
        intervalMs: 100,
      })
      // Not a pipelining cut: 8 requests are within the bound.
      expect(pipelineCuts(bridge)).toBe(10)
      // A reading stream client is never idle for SEND_TIMEOUT: keep-alives move bytes.
      expect(stream.ended()).toBe(false)
      expect((await fetch(`${bridge.url}/health/live`)).status).toBe(200)
    } finally {
      stream.close()
      poller.destroy()
    }
  })
})
