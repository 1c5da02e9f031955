import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { T0, container, following, modelConfig, s } from '../../test/helpers/builders.js'
import { memoryLogger } from '../../test/helpers/log-sink.js'

import { HealthStore, type HeartbeatInput, type Rendered } from './health-store.js'

function hb(service: string, over: Partial<HeartbeatInput> = {}): HeartbeatInput {
  return {
    service,
    instance: 'i1',
    reported: 'healthy',
    error: null,
    details: null,
    sentAt: null,
    remoteAddress: null,
    ...over,
  }
}

function storeWith(over: { maxInstances?: number; heartbeatTimeoutMs?: number } = {}) {
  const { logger, lines } = memoryLogger('info')
  const store = new HealthStore({
    config: {
      ...modelConfig({ heartbeatTimeoutMs: over.heartbeatTimeoutMs ?? s(30) }),
      maxInstances: over.maxInstances ?? 100,
    },
    clock: { now: () => Date.now() },
    logger,
    version: 'test',
  })
  return { store, lines }
}

describe('HealthStore', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('flips a silent instance exactly at its deadline, with no request and no other event', async () => {
    const { store } = storeWith()
    const seen: Rendered[] = []
    store.subscribe((c) => seen.push(c.rendered))
    store.recordHeartbeat(hb('reducer'))
    await vi.advanceTimersByTimeAsync(0)
    expect(seen.at(-1)?.doc.status).toBe('healthy')
    await vi.advanceTimersByTimeAsync(s(30) - 1)
    expect(seen.at(-1)?.doc.status).toBe('healthy')
    await vi.advanceTimersByTimeAsync(1)
    expect(seen.at(-1)?.doc.status).toBe('unhealthy')
    expect(seen.at(-1)?.doc.checkedAt).toBe(new Date(T0 + s(30)).toISOString())
    store.close()
  })

  it('re-judges on read once the deadline has passed, even if its timer has not fired yet', () => {
    let now = T0
    const { logger } = memoryLogger()
    const store = new HealthStore({
      config: { ...modelConfig(), maxInstances: 10 },
      clock: { now: () => now },
      logger,
      version: 't',
    })
    store.recordHeartbeat(hb('reducer'))
    expect(store.current().doc.status).toBe('healthy')
    now = T0 + s(30) // the clock moves; no timer is advanced
    expect(store.current().doc.status).toBe('unhealthy')
    store.close()
  })

  it('serves the same serialized document between changes (a poll is a lookup)', () => {
    const { store } = storeWith()
    store.recordHeartbeat(hb('reducer'))
    const a = store.current()
    expect(store.current()).toBe(a)
    store.close()
  })

  it('refreshes bookkeeping-only heartbeats at most once a second, keeping the ETag', async () => {
    const { store } = storeWith()
    store.recordHeartbeat(hb('reducer'))
    const first = store.current()
    await vi.advanceTimersByTimeAsync(s(2))
    store.recordHeartbeat(hb('reducer', { details: { queueDepth: 3 } }))
    // Same status: the served document may lag, but at most one second.
    const during = store.current()
    expect(during.doc.services[0]?.instances[0]?.heartbeat?.details ?? null).toBeNull()
    await vi.advanceTimersByTimeAsync(1000)
    const after = store.current()
    expect(after.doc.services[0]?.instances[0]?.heartbeat?.details).toEqual({ queueDepth: 3 })
    expect(after.etag).toBe(first.etag)
    expect(after.body).not.toBe(first.body)
    store.close()
  })

  it('lets an old document go once bookkeeping refreshes replaced it (no chain of documents)', async () => {
    // Found by the soak: each refresh that kept the ETag held the previous document (and its
    // serialized body) to reuse its tag, so memory grew by a document per second for good.
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const { store } = storeWith()
    store.recordHeartbeat(hb('reducer'))
    // No strong reference to the first document may stay in this function's scope.
    const { etag, old } = ((first) => {
      expect(first.body.byteLength).toBeGreaterThan(0)
      return { etag: first.etag, old: new WeakRef(first) }
    })(store.current())
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(s(2))
      store.recordHeartbeat(hb('reducer', { details: { seq: i } }))
      await vi.advanceTimersByTimeAsync(1000)
    }
    const now = store.current()
    expect(now.etag).toBe(etag)
    expect(now.doc.services[0]?.instances[0]?.heartbeat?.details).toEqual({ seq: 2 })
    vi.useRealTimers()
    // A WeakRef is cleared after the job that created it ends: collect from a later task.
    await new Promise((r) => setTimeout(r, 10))
    gc()
    await new Promise((r) => setTimeout(r, 10))
    expect(old.deref()).toBeUndefined()
    store.close()
  })

  it('does not re-render on every heartbeat of a flood', async () => {
    const { store } = storeWith()
    store.recordHeartbeat(hb('reducer'))
    const documents = new Set([store.current()])
    for (let i = 0; i < 500; i++) {
      store.recordHeartbeat(hb('reducer'))
      documents.add(store.current())
      await vi.advanceTimersByTimeAsync(2)
    }
    // 500 heartbeats over one second: one or two refreshes (at most one a second), not 500.
    expect(documents.size).toBeLessThanOrEqual(3)
    // ...and the last one shows a heartbeat at most a second old.
    const last = [...documents].at(-1)?.doc.services[0]?.instances[0]?.heartbeat?.lastSeenAt
    expect(Date.now() - Date.parse(last ?? '')).toBeLessThanOrEqual(1000)
    store.close()
  })

  it('shows a status change at once and changes the ETag', () => {
    const { store } = storeWith()
    store.recordHeartbeat(hb('reducer'))
    const before = store.current()
    store.recordHeartbeat(hb('reducer', { reported: 'unhealthy', error: 'db down' }))
    const after = store.current()
    expect(after.doc.services[0]).toMatchObject({ status: 'unhealthy', message: 'db down' })
    expect(after.etag).not.toBe(before.etag)
    expect(after.httpStatus).toBe(503)
    store.close()
  })

  it('tells pollers and the stream when a container restarts though its status and message stay', async () => {
    // Found by the soak: a forgiven restart (or one more restart of a crash-looping container)
    // changes what the status page draws ("container exited", "1 recent restarts") but not the
    // status or message; the ETag must still move, or pollers get 304 and streams no delta.
    const { store } = storeWith()
    const changes: { services: readonly { name: string }[] }[] = []
    store.subscribe((c) => changes.push(c))
    store.setDockerStatus(following())
    const web = container('web', { id: 'f'.repeat(64), startedAt: T0 - s(300) })
    store.upsertContainer(web)
    await vi.advanceTimersByTimeAsync(0)
    const before = store.current()
    expect(before.doc.services[0]).toMatchObject({ status: 'healthy', message: 'running' })
    changes.length = 0

    store.upsertContainer({ ...web, restartCount: 1, restarts: [T0], startedAt: T0 })
    await vi.advanceTimersByTimeAsync(0)
    const after = store.current()
    const inst = after.doc.services[0]?.instances[0]
    expect(after.doc.services[0]).toMatchObject({ status: 'healthy', message: 'running' })
    expect(inst?.docker).toMatchObject({ restartCount: 1, recentRestarts: 1 })
    expect(after.etag).not.toBe(before.etag)
    expect(changes.map((c) => c.services.map((x) => x.name))).toEqual([['web']])
    store.close()
  })

  it('refuses new instances beyond MAX_INSTANCES while existing ones keep reporting', () => {
    const { store } = storeWith({ maxInstances: 2 })
    expect(store.recordHeartbeat(hb('a', { instance: '1' })).ok).toBe(true)
    expect(store.recordHeartbeat(hb('a', { instance: '2' })).ok).toBe(true)
    expect(store.recordHeartbeat(hb('a', { instance: '3' }))).toEqual({
      ok: false,
      reason: 'too_many_instances',
      limit: 2,
    })
    expect(store.recordHeartbeat(hb('a', { instance: '1' })).ok).toBe(true)
    expect(store.heartbeatInstances()).toBe(2)
    store.close()
  })

  it('forgets silent containerless instances after 10 x their timeout, freeing their slot', async () => {
    const { store, lines } = storeWith({ maxInstances: 1, heartbeatTimeoutMs: s(1) })
    store.recordHeartbeat(hb('gone'))
    await vi.advanceTimersByTimeAsync(s(11))
    expect(store.current().doc.services).toEqual([])
    expect(store.heartbeatInstances()).toBe(0)
    expect(lines.some((l) => l.msg === 'silent heartbeat instance forgotten')).toBe(true)
    expect(store.recordHeartbeat(hb('new')).ok).toBe(true)
    store.close()
  })

  it('logs each service transition once, and nothing per poll', async () => {
    const { store, lines } = storeWith()
    store.recordHeartbeat(hb('reducer'))
    for (let i = 0; i < 10; i++) store.current()
    await vi.advanceTimersByTimeAsync(s(31))
    for (let i = 0; i < 10; i++) store.current()
    const changes = lines.filter((l) => l.msg === 'service status changed')
    expect(changes).toEqual([
      expect.objectContaining({
        service: 'reducer',
        from: 'healthy',
        to: 'unhealthy',
        reason: 'no heartbeat for more than 30s (last at 10:00:00Z)',
      }),
    ])
    expect(store.transitions('reducer').map((t) => [t.instance, t.from, t.to])).toEqual([
      [null, 'healthy', 'unhealthy'],
      ['i1', 'healthy', 'unhealthy'],
      [null, null, 'healthy'],
    ])
    store.close()
  })

  it('finds an instance by container id, id prefix, name or hostname', () => {
    const { store } = storeWith()
    const c = container('api', { id: 'f'.repeat(64), hostname: 'api-host' })
    store.setDockerStatus(following())
    store.replaceContainers([c])
    for (const q of [c.id, c.id.slice(0, 12), c.name, 'api-host']) {
      expect(store.instance('api', q)?.id).toBe(c.name)
    }
    expect(store.instance('api', 'nope')).toBeUndefined()
    store.close()
  })

  it('removes destroyed containers without leaving ghosts', () => {
    const { store } = storeWith()
    const a = container('worker', { number: 1 })
    const b = container('worker', { number: 2 })
    store.setDockerStatus(following())
    store.replaceContainers([a, b])
    expect(store.current().doc.services[0]?.instances).toHaveLength(2)
    store.removeContainer(b.id)
    expect(store.current().doc.services[0]?.instances.map((i) => i.id)).toEqual([a.name])
    store.close()
  })

  it('drops the heartbeats of a destroyed container with it', () => {
    const { store } = storeWith()
    const a = container('worker', { number: 1 })
    const b = container('worker', { number: 2 })
    store.setDockerStatus(following())
    store.replaceContainers([a, b])
    store.recordHeartbeat(hb('worker', { instance: a.name }))
    store.recordHeartbeat(hb('worker', { instance: b.id.slice(0, 12) }))
    store.removeContainer(b.id)
    expect(store.heartbeatInstances()).toBe(1)
    expect(store.current().doc.services[0]?.instances.map((i) => i.id)).toEqual([a.name])
    store.close()
  })

  it('stops every timer on close', async () => {
    const { store } = storeWith()
    store.recordHeartbeat(hb('reducer'))
    store.current()
    store.close()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(s(60))
  })
})
