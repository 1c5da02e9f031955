/**
 * The heartbeat client against the real HTTP app (so what it sends is what the bridge accepts),
 * plus hand-written fetches for what a real bridge will not do on demand: refuse connections,
 * never answer. Timers are fake: the schedule is checked to the millisecond, with no waiting.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'

import { testApp } from '../../test/helpers/app.js'

import { HealthBridgeError } from './fetch-health.js'
import { HeartbeatSender, deregisterHeartbeat, sendHeartbeat } from './heartbeat.js'

const URL_ = 'http://health-bridge:8080'
const TOKEN = 'heartbeat-token-0123456789'
const bridges: { store: { close(): void } }[] = []
afterEach(() => {
  // Stores first: their timers belong to the fake clock, if a test installed one.
  for (const b of bridges.splice(0)) b.store.close()
  vi.useRealTimers()
})

interface Sent {
  method: string
  url: string
  body: unknown
  authorization: string | null
}

/** A bridge in process; `fetch` goes to its app and records every request. */
function bridge(env: Record<string, string> = {}) {
  const { app, store } = testApp(env, { close: 'caller' })
  bridges.push({ store })
  const sent: Sent[] = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    // The client always passes a string URL.
    const url = input as string
    const headers = new Headers(init?.headers)
    sent.push({
      method: init?.method ?? 'GET',
      url,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : null,
      authorization: headers.get('authorization'),
    })
    return app.request(url, init)
  }
  const instances = () => store.heartbeatInstances()
  return { fetch, sent, store, instances }
}

describe('sendHeartbeat', () => {
  it('posts a heartbeat the bridge accepts, and returns its answer', async () => {
    const b = bridge()
    const answer = await sendHeartbeat({
      url: `${URL_}/`,
      service: 'query-scheduler',
      instance: '3f2a9c1b7d4e',
      details: { queueDepth: 3 },
      fetch: b.fetch,
    })
    expect(answer).toMatchObject({
      service: 'query-scheduler',
      instance: '3f2a9c1b7d4e',
      status: 'healthy',
      timeoutSeconds: 30,
    })
    expect(b.sent).toHaveLength(1)
    expect(b.sent[0]).toMatchObject({
      method: 'POST',
      url: `${URL_}/health`,
      body: {
        service: 'query-scheduler',
        instance: '3f2a9c1b7d4e',
        details: { queueDepth: 3 },
        timestamp: expect.stringMatching(/Z$/) as unknown,
      },
    })
    expect(b.instances()).toBe(1)
  })

  it('reports an error as unhealthy, and a job end as succeeded', async () => {
    const b = bridge()
    const failing = await sendHeartbeat({
      url: URL_,
      service: 'reducer',
      error: 'cannot reach the results cache',
      fetch: b.fetch,
    })
    expect(failing).toMatchObject({ instance: 'default', status: 'unhealthy' })
    const done = await sendHeartbeat({
      url: URL_,
      service: 'db-table-creator',
      status: 'succeeded',
      fetch: b.fetch,
    })
    expect(done.status).toBe('healthy')
  })

  it('sends the token as a bearer token', async () => {
    const b = bridge({ HEARTBEAT_TOKEN: TOKEN })
    const without = sendHeartbeat({ url: URL_, service: 'reducer', fetch: b.fetch })
    await expect(without).rejects.toMatchObject({ name: 'HealthBridgeError', status: 401 })
    await sendHeartbeat({ url: URL_, service: 'reducer', token: TOKEN, fetch: b.fetch })
    expect(b.sent.map((s) => s.authorization)).toEqual([null, `Bearer ${TOKEN}`])
  })

  it("rejects with the bridge's own reason when the heartbeat is refused", async () => {
    const b = bridge()
    const err = await sendHeartbeat({ url: URL_, service: 'no spaces', fetch: b.fetch }).catch(
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(HealthBridgeError)
    expect(err).toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    expect((err as Error).message).toMatch(/^POST \/health failed: invalid_request: .*service/)
  })

  it('names the network failure, not just "fetch failed"', async () => {
    const refused: typeof fetch = () =>
      Promise.reject(
        new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.7:8080') })
      )
    const err = await sendHeartbeat({ url: URL_, service: 'reducer', fetch: refused }).catch(
      (e: unknown) => e
    )
    expect(err).toMatchObject({
      status: 0,
      message: `POST ${URL_}/health failed: connect ECONNREFUSED 10.0.0.7:8080`,
    })
  })

  it('gives up after timeoutMs when the bridge never answers', async () => {
    const silent: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => {
          reject(init.signal?.reason as Error)
        })
      })
    const err = await sendHeartbeat({
      url: URL_,
      service: 'reducer',
      timeoutMs: 20,
      fetch: silent,
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({
      status: 0,
      message: `POST ${URL_}/health failed: no answer within 20 ms`,
    })
  })
})

describe('deregisterHeartbeat', () => {
  it('removes the instance, and says when there was none', async () => {
    const b = bridge()
    await sendHeartbeat({ url: URL_, service: 'query-worker', instance: 'w-1', fetch: b.fetch })
    const target = { url: URL_, service: 'query-worker', instance: 'w-1', fetch: b.fetch }
    expect(await deregisterHeartbeat(target)).toBe(true)
    expect(b.instances()).toBe(0)
    expect(await deregisterHeartbeat(target)).toBe(false)
    expect(b.sent.at(-1)).toMatchObject({
      method: 'DELETE',
      url: `${URL_}/health?service=query-worker&instance=w-1`,
    })
  })
})

describe('HeartbeatSender', () => {
  it('beats at once, then every interval with jitter, until stopped', async () => {
    vi.useFakeTimers()
    const b = bridge()
    const randoms = [0, 0.999, 0.5]
    const sender = new HeartbeatSender({
      url: URL_,
      service: 'query-scheduler',
      instance: 'qs-1',
      intervalMs: 10_000,
      jitter: 0.1,
      random: () => randoms.shift() ?? 0.5,
      fetch: b.fetch,
    }).start()
    await vi.advanceTimersByTimeAsync(0)
    expect(b.sent).toHaveLength(1)
    // random 0 -> the shortest wait: 10 s - 10 %.
    await vi.advanceTimersByTimeAsync(8_999)
    expect(b.sent).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(b.sent).toHaveLength(2)
    // random 0.999 -> nearly the longest: 10 s + 10 %.
    await vi.advanceTimersByTimeAsync(10_997)
    expect(b.sent).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(2)
    expect(b.sent).toHaveLength(3)
    expect(sender.running).toBe(true)

    await sender.stop()
    expect(sender.running).toBe(false)
    expect(b.sent.at(-1)?.method).toBe('DELETE')
    expect(b.instances()).toBe(0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(b.sent.filter((s) => s.method === 'POST')).toHaveLength(3)
  })

  it('reports what check() says, and a failing check as the error', async () => {
    vi.useFakeTimers()
    const b = bridge()
    let depth = 1
    const sender = new HeartbeatSender({
      url: URL_,
      service: 'reducer',
      intervalMs: 1000,
      jitter: 0,
      fetch: b.fetch,
      check: () => {
        if (depth > 1) throw new Error('results cache unreachable')
        return { details: { depth } }
      },
    }).start()
    await vi.advanceTimersByTimeAsync(0)
    depth = 2
    await vi.advanceTimersByTimeAsync(1000)
    expect(b.sent.map((s) => s.body)).toMatchObject([
      { service: 'reducer', details: { depth: 1 } },
      { service: 'reducer', error: 'results cache unreachable' },
    ])
    expect(b.store.service('reducer')?.view.status).toBe('unhealthy')
    await sender.stop()
  })

  it('keeps beating through failures, telling onError, and never overlaps beats', async () => {
    vi.useFakeTimers()
    let calls = 0
    let inFlight = 0
    let maxInFlight = 0
    const errors: unknown[] = []
    // Each answer takes 3 s (longer than the interval); the first two fail.
    const slow: typeof fetch = async () => {
      calls++
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((r) => setTimeout(r, 3000))
      inFlight--
      if (calls <= 2) throw new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') })
      return new Response(null, { status: 204 })
    }
    const sender = new HeartbeatSender({
      url: URL_,
      service: 'reducer',
      intervalMs: 1000,
      jitter: 0,
      fetch: slow,
      onError: (e) => errors.push(e),
      deregister: false,
    }).start()
    await vi.advanceTimersByTimeAsync(3000 + 1000 + 3000 + 1000 + 3000)
    expect(calls).toBe(3)
    expect(maxInFlight).toBe(1)
    expect(errors.map((e) => (e as Error).message)).toEqual([
      `POST ${URL_}/health failed: ECONNREFUSED`,
      `POST ${URL_}/health failed: ECONNREFUSED`,
      // The third answer is 204, not the 202 a bridge sends: reported, not swallowed.
      'POST /health failed: HTTP 204',
    ])
    // stop() waits for the beat in flight; with deregister: false it sends nothing more.
    await vi.advanceTimersByTimeAsync(1000)
    const stopped = sender.stop()
    await vi.advanceTimersByTimeAsync(3000)
    await stopped
    expect(calls).toBe(4)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(calls).toBe(4)
  })

  it('refuses a schedule that would flood the bridge', () => {
    expect(() => new HeartbeatSender({ url: URL_, service: 'x', intervalMs: 10 })).toThrow(
      /intervalMs must be at least 100 ms/
    )
    expect(() => new HeartbeatSender({ url: URL_, service: 'x', jitter: 1 })).toThrow(
      /jitter must be at least 0 and below 1/
    )
  })
})
