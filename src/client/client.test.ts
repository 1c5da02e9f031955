import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { testApp } from '../../test/helpers/app.js'
import type { HealthDocument } from '../wire/health-document.js'

import { HealthBridgeError, fetchHealth } from './fetch-health.js'
import { createHealthClient } from './health-client.js'
import { backoffDelay, subscribeHealth, type ConnectionState } from './subscribe.js'

const READ_TOKEN = 'read-token-0123456789abcdef'

const urlOf = (input: string | URL | Request): string =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url

describe('fetchHealth / createHealthClient (against the real app)', () => {
  function setup(env: Record<string, string> = {}) {
    const { app, post } = testApp(env)
    const calls: Headers[] = []
    const appFetch: typeof fetch = async (input, init) => {
      calls.push(new Headers(init?.headers))
      return app.request(urlOf(input), init)
    }
    return { appFetch, beat: (body: Record<string, unknown>) => post(body), calls }
  }

  it('reuses the ETag: the same document object comes back on 304, a new one after a change', async () => {
    const { appFetch, beat, calls } = setup()
    await beat({ service: 'api' })
    const client = createHealthClient({ baseUrl: 'http://bridge', fetch: appFetch })
    const first = await client.fetchHealth()
    expect(first.notModified).toBe(false)
    expect(first.etag).toMatch(/^W\//)
    const second = await client.fetchHealth()
    expect(calls[1]?.get('if-none-match')).toBe(first.etag)
    expect(second.notModified).toBe(true)
    expect(second.doc).toBe(first.doc)
    await beat({ service: 'api', error: 'down' })
    const third = await client.fetchHealth()
    expect(third).toMatchObject({ notModified: false, httpStatus: 503 })
    expect(third.doc.status).toBe('unhealthy')
    expect(client.last).toBe(third)
  })

  it('sends the configured headers (READ_TOKEN) and turns error answers into HealthBridgeError', async () => {
    const { appFetch } = setup({ READ_TOKEN })
    const denied = fetchHealth({ baseUrl: '', fetch: appFetch })
    await expect(denied).rejects.toBeInstanceOf(HealthBridgeError)
    await expect(denied).rejects.toMatchObject({ status: 401, body: { error: 'unauthorized' } })
    const ok = await fetchHealth({
      baseUrl: '',
      fetch: appFetch,
      headers: { authorization: `Bearer ${READ_TOKEN}` },
    })
    expect(ok.httpStatus).toBe(200)
  })

  it('says so when baseUrl is not the bridge', async () => {
    const page: typeof fetch = () =>
      Promise.resolve(
        new Response('<html>WebUI</html>', { headers: { 'content-type': 'text/html' } })
      )
    await expect(fetchHealth({ baseUrl: 'http://webui', fetch: page })).rejects.toThrow(
      /did not answer JSON; is baseUrl the bridge/
    )
  })
})

/** A scripted fetch: each call gets the next connection, which the test drives. */
function scriptedFetch() {
  const encoder = new TextEncoder()
  interface Connection {
    headers: Headers
    url: string
    signal: AbortSignal | null
    send(text: string): void
    end(): void
  }
  const connections: Connection[] = []
  const answers: (() => Response | null)[] = []
  const fetchFn: typeof fetch = (input, init) => {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c
      },
    })
    const signal = init?.signal ?? null
    const conn: Connection = {
      headers: new Headers(init?.headers),
      url: urlOf(input),
      signal,
      send: (text) => {
        controller.enqueue(encoder.encode(text))
      },
      end: () => {
        controller.close()
      },
    }
    connections.push(conn)
    signal?.addEventListener('abort', () => {
      try {
        controller.error(signal.reason)
      } catch {
        // already closed
      }
    })
    const scripted = answers.shift()?.()
    return Promise.resolve(
      scripted ?? new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    )
  }
  return { fetchFn, connections, answers }
}

const docWith = (status: HealthDocument['status']) =>
  JSON.stringify({ status, checkedAt: '2026-11-21T10:00:00.000Z', services: [] })

describe('subscribeHealth', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('delivers documents, and after the bridge ends the stream reconnects with Last-Event-ID', async () => {
    const { fetchFn, connections } = scriptedFetch()
    const docs: string[] = []
    const states: ConnectionState[] = []
    const sub = subscribeHealth({
      baseUrl: 'http://bridge/',
      fetch: fetchFn,
      onHealth: (doc, meta) => docs.push(`${doc.status} ${meta.etag}`),
      onState: (s) => states.push(s),
      random: () => 0,
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(connections[0]?.url).toBe('http://bridge/health/stream')
    expect(connections[0]?.headers.get('last-event-id')).toBeNull()
    connections[0]?.send(`retry: 3000\n\nid: W/"1"\nevent: health\ndata: ${docWith('healthy')}\n\n`)
    await vi.advanceTimersByTimeAsync(0)
    expect(docs).toEqual(['healthy W/"1"'])
    expect(states).toEqual(['connecting', 'open'])

    connections[0]?.end()
    await vi.advanceTimersByTimeAsync(0)
    expect(states.at(-1)).toBe('reconnecting')
    // The server's retry (3 s), jittered down to at least half of it.
    await vi.advanceTimersByTimeAsync(1499)
    expect(connections).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(connections).toHaveLength(2)
    expect(connections[1]?.headers.get('last-event-id')).toBe('W/"1"')
    expect(sub.lastEventId).toBe('W/"1"')
    sub.close()
  })

  it('backs off on repeated failures and honours Retry-After on 429', async () => {
    const { fetchFn, connections, answers } = scriptedFetch()
    const waits: number[] = []
    const errors: unknown[] = []
    const refused = () =>
      new Response(JSON.stringify({ error: 'too_many_streams', message: 'full' }), {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '20' },
      })
    const down = () => new Response('bad gateway', { status: 502 })
    answers.push(down, down, down, refused)
    const sub = subscribeHealth({
      baseUrl: '',
      fetch: fetchFn,
      onHealth: () => undefined,
      onState: (s, info) => {
        if (s === 'reconnecting') {
          waits.push(info.retryInMs ?? -1)
          errors.push(info.error)
        }
      },
      random: () => 1,
    })
    for (let i = 0; i < 4; i++) await vi.advanceTimersByTimeAsync(waits.at(-1) ?? 0)
    // 1 s doubling per failure (no retry: from a server yet), then 20 s as the bridge asked.
    expect(waits).toEqual([2000, 4000, 8000, 20_000])
    expect(errors[3]).toMatchObject({ status: 429, body: { error: 'too_many_streams' } })
    expect(connections).toHaveLength(4)
    sub.close()
  })

  it('drops a connection that goes silent (half-open) and makes a new one', async () => {
    const { fetchFn, connections } = scriptedFetch()
    const errors: unknown[] = []
    const sub = subscribeHealth({
      baseUrl: '',
      fetch: fetchFn,
      onHealth: () => undefined,
      onState: (s, info) => {
        if (s === 'reconnecting') errors.push(info.error)
      },
      idleTimeoutMs: 45_000,
      random: () => 0,
    })
    await vi.advanceTimersByTimeAsync(0)
    connections[0]?.send(': keep-alive\n\n')
    await vi.advanceTimersByTimeAsync(44_999)
    expect(connections[0]?.signal?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(connections[0]?.signal?.aborted).toBe(true)
    expect(String(errors[0])).toMatch(/no data for 45000 ms/)
    await vi.advanceTimersByTimeAsync(1000)
    expect(connections).toHaveLength(2)
    sub.close()
  })

  it('stops for good on close(): the connection is aborted and nothing reconnects', async () => {
    const { fetchFn, connections } = scriptedFetch()
    const states: ConnectionState[] = []
    const sub = subscribeHealth({
      baseUrl: '',
      fetch: fetchFn,
      onHealth: () => undefined,
      onState: (s) => states.push(s),
    })
    await vi.advanceTimersByTimeAsync(0)
    sub.close()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(connections).toHaveLength(1)
    expect(connections[0]?.signal?.aborted).toBe(true)
    expect(states.at(-1)).toBe('closed')
  })

  it('reports an answer that is not an event stream and keeps trying', async () => {
    const { fetchFn, connections, answers } = scriptedFetch()
    const errors: unknown[] = []
    answers.push(() => new Response('<html></html>', { headers: { 'content-type': 'text/html' } }))
    const sub = subscribeHealth({
      baseUrl: '',
      fetch: fetchFn,
      onHealth: () => undefined,
      onState: (s, info) => {
        if (s === 'reconnecting') errors.push(info.error)
      },
      random: () => 0,
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(String(errors[0])).toMatch(/not an event stream; is baseUrl the bridge/)
    await vi.advanceTimersByTimeAsync(1000)
    expect(connections).toHaveLength(2)
    sub.close()
  })
})

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, with jitter in the upper half', () => {
    expect(backoffDelay(0, 1000, 30_000, () => 0)).toBe(500)
    expect(backoffDelay(0, 1000, 30_000, () => 1)).toBe(1000)
    expect(backoffDelay(3, 1000, 30_000, () => 1)).toBe(8000)
    expect(backoffDelay(10, 1000, 30_000, () => 1)).toBe(30_000)
    expect(backoffDelay(10_000, 1000, 30_000, () => 0)).toBe(15_000)
  })
})
