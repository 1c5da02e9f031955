import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { T0, s } from '../../../test/helpers/builders.js'
import { testApp } from '../../../test/helpers/app.js'
import { drawnOnly } from '../../../test/helpers/drawn.js'
import { SseParser, type SseEvent } from '../../client/sse.js'
import { applyDelta } from '../../client/delta.js'
import {
  healthDeltaSchema,
  healthDocumentSchema,
  type HealthDocument,
} from '../../wire/health-document.js'

import { StreamHub, type StreamHubOptions, type StreamSource } from '../../stream/hub.js'

/** Reads an SSE response as a client would, keeping the raw text for comments. */
function sse(res: Response) {
  if (!res.body) throw new Error('no body')
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  const parser = new SseParser()
  const events: SseEvent[] = []
  let raw = ''
  let ended = false
  return {
    events,
    parser,
    raw: () => raw,
    get ended() {
      return ended
    },
    /** Reads one chunk (the bridge writes each event as one). */
    async read(): Promise<void> {
      const { done, value } = await reader.read()
      if (done) {
        ended = true
        return
      }
      const text = decoder.decode(value, { stream: true })
      raw += text
      events.push(...parser.push(text))
    },
    cancel: () => reader.cancel(),
  }
}

const stores: { close(): void }[] = []
function setup(env: Record<string, string> = {}, hubOpts: Partial<StreamHubOptions> = {}) {
  let subscriptions = 0
  let hub: StreamHub | undefined
  const { app, store, lines, post } = testApp(
    { HEARTBEAT_TIMEOUT: '30s', ...env },
    {
      // Closed before the fake timers go (afterEach): its timers belong to the fake clock.
      close: 'caller',
      deps: (store, config, logger) => {
        const source: StreamSource = {
          current: () => store.current(),
          service: (name) => store.service(name),
          subscribe: (listener) => {
            subscriptions++
            const off = store.subscribe(listener)
            return () => {
              subscriptions--
              off()
            }
          },
        }
        hub = new StreamHub({ source, logger, maxStreams: config.maxStreams, ...hubOpts })
        return { streams: hub }
      },
    }
  )
  stores.push(store)
  if (!hub) throw new Error('the app was made without its hub')
  const beat = async (body: Record<string, unknown>) => {
    expect((await post(body)).status).toBe(202)
    // The store re-judges on the next turn of the event loop.
    await vi.advanceTimersByTimeAsync(0)
  }
  const open = (headers: Record<string, string> = {}, query = '') =>
    app.request(`/health/stream${query}`, { headers })
  return { app, store, hub, beat, open, lines, subscriptions: () => subscriptions }
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})
afterEach(() => {
  for (const st of stores.splice(0)) st.close()
  vi.useRealTimers()
})

describe('GET /health/stream', () => {
  it('starts with the whole current document, its ETag as id, and a retry delay', async () => {
    const { app, beat, open } = setup()
    await beat({ service: 'api' })
    const res = await open()
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
    const stream = sse(res)
    while (stream.events.length === 0) await stream.read()
    const [first] = stream.events
    expect(first?.event).toBe('health')
    const doc = healthDocumentSchema.parse(JSON.parse(first?.data ?? ''))
    expect(doc.services.map((x) => [x.name, x.status])).toEqual([['api', 'healthy']])
    const polled = await app.request('/health')
    expect(first?.id).toBe(polled.headers.get('etag'))
    expect(stream.parser.retryMs).toBe(3000)
    await stream.cancel()
  })

  it('with ?full=1 sends the whole document on every change, deadline-driven flips included, and none when nothing drawn changed', async () => {
    const { beat, open } = setup()
    await beat({ service: 'api' })
    const stream = sse(await open({}, '?full=1'))
    while (stream.events.length < 1) await stream.read()

    // Heartbeats that change no status (only lastSeenAt) send nothing, even after the
    // bookkeeping re-render.
    await vi.advanceTimersByTimeAsync(s(10))
    await beat({ service: 'api' })
    await vi.advanceTimersByTimeAsync(s(2))
    await beat({ service: 'db', error: 'disk full' })
    while (stream.events.length < 2) await stream.read()
    expect(JSON.parse(stream.events[1]?.data ?? '')).toMatchObject({ status: 'unhealthy' })

    // Nobody writes anything: api's silence passes HEARTBEAT_TIMEOUT (30 s after its last beat)
    // and the flip is pushed at that instant.
    await vi.advanceTimersByTimeAsync(s(28) - 1)
    expect(stream.events).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    while (stream.events.length < 3) await stream.read()
    const flipped = healthDocumentSchema.parse(JSON.parse(stream.events[2]?.data ?? ''))
    expect(flipped.services.map((x) => [x.name, x.status])).toEqual([
      ['api', 'unhealthy'],
      ['db', 'unhealthy'],
    ])
    expect(stream.events.map((e) => e.event)).toEqual(['health', 'health', 'health'])
    expect(new Set(stream.events.map((e) => e.id)).size).toBe(3)
    await stream.cancel()
  })

  it('does not resend the document a reconnecting client already has (Last-Event-ID)', async () => {
    const { beat, open } = setup()
    await beat({ service: 'api' })
    const first = sse(await open())
    while (first.events.length < 1) await first.read()
    const seen = first.events[0]?.id ?? ''
    await first.cancel()

    const resumed = sse(await open({ 'last-event-id': seen }))
    await resumed.read() // the retry: line
    await beat({ service: 'api', error: 'broken' })
    while (resumed.events.length < 1) await resumed.read()
    // The first event it gets is the change, not the document it already had.
    expect(resumed.events[0]?.id).not.toBe(seen)
    expect(JSON.parse(resumed.events[0]?.data ?? '')).toMatchObject({ status: 'unhealthy' })
    await resumed.cancel()

    // A stale id gets the current document at once.
    const stale = sse(await open({ 'last-event-id': seen }))
    while (stale.events.length < 1) await stale.read()
    expect(stale.events[0]?.id).toBe(resumed.events[0]?.id)
    await stale.cancel()
  })

  it('writes a keep-alive comment every 5 s on a quiet stream', async () => {
    const { open } = setup()
    const stream = sse(await open())
    while (stream.events.length < 1) await stream.read()
    expect(stream.raw()).not.toContain(': keep-alive')
    await vi.advanceTimersByTimeAsync(s(5))
    await stream.read()
    expect(stream.raw()).toContain(': keep-alive\n\n')
    await stream.cancel()
  })

  it('sends keep-alives as often as a client asks (?keepAlive=1s), within 1 s to 5 s', async () => {
    const { app, open } = setup()
    const stream = sse(await open({}, '?keepAlive=1s'))
    while (stream.events.length < 1) await stream.read()
    await vi.advanceTimersByTimeAsync(s(1))
    await stream.read()
    expect(stream.raw()).toContain(': keep-alive\n\n')
    await stream.cancel()
    for (const bad of ['10s', '500ms', 'soon']) {
      const res = await app.request(`/health/stream?keepAlive=${bad}`)
      expect(res.status, bad).toBe(400)
      expect(((await res.json()) as { message: string }).message).toMatch(/keepAlive/)
    }
  })

  it('refuses streams beyond MAX_STREAMS with 429 too_many_streams, and accepts again once one closes', async () => {
    const { open, hub, lines } = setup({ MAX_STREAMS: '2' })
    const a = sse(await open())
    const b = sse(await open())
    const refused = await open()
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('30')
    expect(await refused.json()).toEqual({
      error: 'too_many_streams',
      message:
        '2 event streams are already open (MAX_STREAMS); poll GET /health with If-None-Match instead',
    })
    expect(lines.filter((l) => l['msg'] === 'stream refused: MAX_STREAMS reached')).toHaveLength(1)
    await a.cancel()
    expect(hub.size).toBe(1)
    const c = await open()
    expect(c.status).toBe(200)
    await b.cancel()
    await c.body?.cancel()
  })

  it('MAX_STREAMS=0 turns the stream off, saying so', async () => {
    const { open } = setup({ MAX_STREAMS: '0' })
    const res = await open()
    expect(res.status).toBe(429)
    expect(((await res.json()) as { message: string }).message).toMatch(
      /turned off \(MAX_STREAMS=0\)/
    )
  })

  it('forgets a client that goes away: no stream, no subscription left', async () => {
    const { open, hub, subscriptions } = setup()
    const stream = sse(await open())
    await stream.read()
    expect(hub.size).toBe(1)
    expect(subscriptions()).toBe(1)
    await stream.cancel()
    expect(hub.size).toBe(0)
    expect(subscriptions()).toBe(0)
  })

  it('ends a stream when the request is aborted', async () => {
    const { app, hub, subscriptions } = setup()
    const controller = new AbortController()
    const res = await app.request('/health/stream', { signal: controller.signal })
    const stream = sse(res)
    await stream.read()
    expect(hub.size).toBe(1)
    controller.abort()
    while (!stream.ended) await stream.read()
    expect(hub.size).toBe(0)
    expect(subscriptions()).toBe(0)
  })

  it('drops a client that stops reading once too much is queued for it', async () => {
    const { open, hub, beat, lines } = setup({}, { maxQueuedBytes: 2000 })
    const res = await open()
    expect(hub.size).toBe(1)
    // Nobody reads: the first (empty) document waits in the queue, and the next one would take
    // it past 2000 bytes.
    await beat({ service: 'api', error: 'x'.repeat(1000) })
    expect(hub.size).toBe(0)
    expect(lines.some((l) => l['msg'] === 'stream dropped: the client is not reading')).toBe(true)
    await res.body?.cancel()
  })

  it('ends every open stream cleanly on closeAll, and new ones end at once with a retry delay', async () => {
    const { open, hub, subscriptions } = setup()
    const a = sse(await open())
    const b = sse(await open())
    await a.read()
    await b.read()
    hub.closeAll()
    while (!a.ended) await a.read()
    while (!b.ended) await b.read()
    expect(a.raw()).toContain(': the bridge is shutting down')
    expect(hub.size).toBe(0)
    expect(subscriptions()).toBe(0)

    const late = sse(await open())
    while (!late.ended) await late.read()
    expect(late.raw()).toBe('retry: 3000\n\n')
  })

  it('opens nothing for HEAD, and refuses unknown query parameters', async () => {
    const { app, hub } = setup()
    const head = await app.request('/health/stream', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(hub.size).toBe(0)
    const bad = await app.request('/health/stream?service=api')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'invalid_request' })
  })
})

/** Follows a stream the way a client does: the first document, then every delta applied. */
async function follower(stream: ReturnType<typeof sse>) {
  while (stream.events.length === 0) await stream.read()
  const first = stream.events[0]
  if (first?.event !== 'health') throw new Error(`first event is ${first?.event ?? 'none'}`)
  let doc = healthDocumentSchema.parse(JSON.parse(first.data))
  let applied = 1
  let at = first.id
  return {
    /** Reads and applies events until the client is at `etag`; returns its document. */
    async catchUp(etag: string | null): Promise<HealthDocument> {
      while (at !== etag) {
        while (stream.events.length <= applied) await stream.read()
        const e = stream.events[applied++]
        expect(e?.event).toBe('delta')
        doc = applyDelta(doc, healthDeltaSchema.parse(JSON.parse(e?.data ?? '')))
        at = e?.id ?? ''
      }
      return doc
    },
  }
}

describe('GET /health/stream deltas', () => {
  it('sends the changed services only, and the names of removed ones', async () => {
    const { app, beat, open } = setup()
    await beat({ service: 'api' })
    await beat({ service: 'db' })
    const stream = sse(await open())
    while (stream.events.length < 1) await stream.read()

    await beat({ service: 'db', error: 'disk full' })
    while (stream.events.length < 2) await stream.read()
    const changed = healthDeltaSchema.parse(JSON.parse(stream.events[1]?.data ?? ''))
    expect(stream.events[1]?.event).toBe('delta')
    expect(changed.services.map((x) => [x.name, x.status])).toEqual([['db', 'unhealthy']])
    expect(changed.removed).toEqual([])
    expect(changed.status).toBe('unhealthy')
    expect(stream.events[1]?.id).toBe((await app.request('/health')).headers.get('etag'))

    expect(
      (await app.request('/health?service=db&instance=default', { method: 'DELETE' })).status
    ).toBe(204)
    await vi.advanceTimersByTimeAsync(0)
    while (stream.events.length < 3) await stream.read()
    const gone = healthDeltaSchema.parse(JSON.parse(stream.events[2]?.data ?? ''))
    expect(gone.services).toEqual([])
    expect(gone.removed).toEqual(['db'])
    await stream.cancel()
  })

  it('catches a client resuming from a recent id up with one delta', async () => {
    const { app, beat, open } = setup()
    await beat({ service: 'api' })
    const first = sse(await open())
    const client = await follower(first)
    const had = await client.catchUp(first.events[0]?.id ?? null)
    const seen = first.events[0]?.id ?? ''
    await first.cancel()

    // Two changes while it is away: one keeps the stream's hub subscribed, so it remembers them.
    const other = sse(await open())
    await other.read()
    await beat({ service: 'db', error: 'disk full' })
    await beat({ service: 'api', error: 'broken' })
    const resumed = sse(await open({ 'last-event-id': seen }))
    while (resumed.events.length < 1) await resumed.read()
    expect(resumed.events[0]?.event).toBe('delta')
    const caughtUp = applyDelta(
      had,
      healthDeltaSchema.parse(JSON.parse(resumed.events[0]?.data ?? ''))
    )
    expect(caughtUp).toEqual(await (await app.request('/health')).json())
    await resumed.cancel()
    await other.cancel()
  })

  it.each([
    ['gives exactly GET /health after any sequence of changes', false],
    [
      'agrees with GET /health on everything a display draws, bookkeeping-only heartbeats included',
      true,
    ],
  ])(
    'applied in order to the first document, %s',
    async (_title, bookkeeping) => {
      const step = fc.oneof(
        fc.record({
          kind: fc.constant('beat' as const),
          service: fc.constantFrom('api', 'db', 'queue'),
          instance: fc.constantFrom('a', 'b'),
          healthy: fc.boolean(),
        }),
        fc.record({
          kind: fc.constant('delete' as const),
          service: fc.constantFrom('api', 'db', 'queue'),
          instance: fc.constantFrom('a', 'b'),
        }),
        fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: s(40) }) })
      )
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
          const { app, beat, open } = setup({ HEARTBEAT_TIMEOUT: '10s' })
          const stream = sse(await open())
          const client = await follower(stream)
          let n = 0
          const last = new Map<string, 'ok' | 'error'>()
          for (const st of steps) {
            const key = `${st.kind === 'advance' ? '' : st.service}/${st.kind === 'advance' ? '' : st.instance}`
            if (st.kind === 'beat') {
              // Every beat changes what is drawn (a new error, or healthy after an error), so the
              // document holds no bookkeeping that the stream, by design, does not send.
              const healthy = st.healthy && (bookkeeping || last.get(key) !== 'ok')
              await beat({
                service: st.service,
                instance: st.instance,
                error: healthy ? null : `broken ${++n}`,
              })
              last.set(key, healthy ? 'ok' : 'error')
            } else if (st.kind === 'delete') {
              last.delete(key)
              await app.request(`/health?service=${st.service}&instance=${st.instance}`, {
                method: 'DELETE',
              })
              await vi.advanceTimersByTimeAsync(0)
            } else {
              await vi.advanceTimersByTimeAsync(st.ms)
            }
            const now = await app.request('/health')
            const have = await client.catchUp(now.headers.get('etag'))
            const want = (await now.json()) as HealthDocument
            if (bookkeeping) expect(drawnOnly(have)).toEqual(drawnOnly(want))
            else expect(have).toEqual(want)
          }
          await stream.cancel()
        }),
        { seed: 42, numRuns: 40 }
      )
    },
    60_000
  )
})
