import { afterEach, describe, expect, it, vi } from 'vitest'

import { systemClock } from '../../clock.js'
import {
  FakeDockerApi,
  inspectInfo,
  PROJECT,
  RecordingSink,
} from '../../../test/helpers/docker-fake-api.js'
import { memoryLogger } from '../../../test/helpers/log-sink.js'
import { waitFor as waitForSlow } from '../../../test/helpers/wait-for.js'

import { DockerApiError } from './docker-api.js'
import { DockerSource, type DockerSourceOptions } from './docker-source.js'
import { MAX_LINE_BYTES } from './event-stream.js'

const waitFor = <T>(check: () => T, what: string) =>
  waitForSlow(check, { timeoutMs: 3000, intervalMs: 2, what })

/** Only before asserting that nothing (more) happened: gives stray work a chance to show up. */
const settle = () => new Promise((r) => setTimeout(r, 20))

const running: DockerSource[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()))
  vi.useRealTimers()
})

function setup(over: Partial<DockerSourceOptions> = {}) {
  const api = new FakeDockerApi()
  const sink = new RecordingSink()
  const { logger, lines } = memoryLogger('debug')
  const source = new DockerSource({
    api,
    project: PROJECT,
    sink,
    logger,
    clock: systemClock,
    crashloopWindowMs: 15 * 60_000,
    giveUpAfterMs: 0,
    backoff: { initialMs: 5, factor: 2, maxMs: 40, jitter: 0 },
    ...over,
  })
  running.push(source)
  const following = () => waitFor(() => sink.status?.state === 'following', 'the source to follow')
  return { api, sink, source, lines, following }
}

describe('DockerSource: subscribe, sync, follow', () => {
  it('subscribes to events before it lists, then replaces the sink’s containers', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(inspectInfo('web'))
    const db = api.add(
      inspectInfo('db', { State: { Health: { Status: 'healthy', FailingStreak: 0, Log: [] } } })
    )
    expect(source.currentStatus.state).not.toBe('following')
    source.start()
    await following()
    expect(api.calls.slice(0, 3)).toEqual(['negotiate', 'events', 'list'])
    expect(sink.log[0]).toBe('replace 2')
    expect(sink.containers.get(web.Id)?.service).toBe('web')
    expect(sink.containers.get(db.Id)?.health).toBe('healthy')
    expect(sink.states()).toEqual(['connecting', 'syncing', 'following'])
    expect(sink.status).toMatchObject({
      project: PROJECT,
      synced: true,
      unreachableSince: null,
      detail: null,
    })
    expect(source.currentStatus.state).toBe('following')
  })

  it('asks for the project’s lifecycle events only, from a second before it subscribed', async () => {
    const { api, source, following } = setup()
    const before = Math.floor(Date.now() / 1000)
    source.start()
    await following()
    const query = api.queries[0]
    expect(query?.filters).toMatchObject({
      type: ['container'],
      label: [`com.docker.compose.project=${PROJECT}`],
    })
    expect(query?.filters['event']).not.toContain('exec_start')
    expect(query?.since).toBeGreaterThanOrEqual(before - 2)
    expect(query?.since).toBeLessThanOrEqual(before)
  })

  it('applies events that arrived while it was listing, after the list', async () => {
    const { api, sink, source, following } = setup()
    const release = api.gate('list')
    source.start()
    await waitFor(() => api.calls.includes('list'), 'the list call')
    const late = api.add(inspectInfo('worker'))
    api.emit('create', late.Id)
    api.emit('start', late.Id)
    release()
    await following()
    await waitFor(() => sink.containers.has(late.Id), 'the late container')
    // The list already saw it; the buffered events re-inspect it once more (coalesced), no more.
    expect(api.count(`inspect ${late.Id.slice(0, 12)}`)).toBeLessThanOrEqual(3)
    expect(sink.log.indexOf('replace 1')).toBeLessThan(
      sink.log.lastIndexOf(`upsert ${late.Id.slice(0, 12)} running`)
    )
  })

  it('drops a container that vanished between list and inspect', async () => {
    const { api, sink, source, following } = setup()
    const gone = api.add(inspectInfo('web'))
    const release = api.gate('inspect')
    source.start()
    await waitFor(() => api.calls.some((c) => c.startsWith('inspect')), 'an inspect')
    api.containers.delete(gone.Id)
    release()
    await following()
    expect(sink.log[0]).toBe('replace 0')
  })
})

describe('DockerSource: events', () => {
  it('re-inspects on die and shows the exit', async () => {
    const { api, sink, source, following } = setup()
    const job = api.add(inspectInfo('init'))
    source.start()
    await following()
    api.update(job.Id, {
      State: { Status: 'exited', ExitCode: 3, FinishedAt: '2026-11-21T10:00:05Z' },
    })
    api.emit('die', job.Id, { exitCode: '3' })
    await waitFor(() => sink.containers.get(job.Id)?.state === 'exited', 'the exit')
    expect(sink.containers.get(job.Id)?.exitCode).toBe(3)
    expect(sink.status?.lastEventAt).toBeGreaterThan(0)
  })

  it('re-inspects on start: a restart resets health to starting without a health event', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(
      inspectInfo('web', {
        State: { Health: { Status: 'unhealthy', FailingStreak: 3, Log: [{ Output: 'down' }] } },
      })
    )
    source.start()
    await following()
    api.update(web.Id, {
      RestartCount: 1,
      State: {
        Status: 'running',
        StartedAt: new Date().toISOString(),
        Health: { Status: 'starting', FailingStreak: 0, Log: [] },
      },
    })
    api.emit('die', web.Id, { exitCode: '1' })
    api.emit('start', web.Id)
    // The start event says `starting` at once; the inspect that follows adds the restart.
    await waitFor(
      () =>
        sink.containers.get(web.Id)?.health === 'starting' &&
        sink.containers.get(web.Id)?.restarts.length === 1,
      'health starting, and the restart counted'
    )
  })

  it('shows what an event says at once, before the engine answers the inspect', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(inspectInfo('web'))
    source.start()
    await following()
    const release = api.gate('inspect')
    api.update(web.Id, { State: { Status: 'exited', ExitCode: 3 } })
    api.emit('die', web.Id, { exitCode: '3' })
    await waitFor(() => sink.containers.get(web.Id)?.state === 'exited', 'exited, from the event')
    expect(sink.containers.get(web.Id)?.exitCode).toBe(3)
    expect(api.count('inspect')).toBe(2)
    release()
  })

  it('does not apply an answer an event overtook: no flicker back to the older state', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(inspectInfo('web'))
    api.answersAsAsked = true
    source.start()
    await following()
    const release = api.gate('inspect')
    api.update(web.Id, { State: { Status: 'paused' } })
    api.emit('pause', web.Id)
    await waitFor(() => sink.containers.get(web.Id)?.state === 'paused', 'paused, from the event')
    api.update(web.Id, { State: { Status: 'running' } })
    api.emit('unpause', web.Id)
    await waitFor(() => sink.containers.get(web.Id)?.state === 'running', 'running again')
    const seen: string[] = []
    const upsert = sink.upsertContainer.bind(sink)
    sink.upsertContainer = (c) => {
      seen.push(c.state)
      upsert(c)
    }
    // The held inspect was asked while paused; its answer arrives after the unpause.
    release()
    await waitFor(() => api.count('inspect') >= 3 && seen.length >= 1, 'the second inspect applied')
    expect(seen).not.toContain('paused')
    expect(sink.containers.get(web.Id)?.state).toBe('running')
  })

  it('picks up the failing streak and probe output on health_status', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(
      inspectInfo('web', { State: { Health: { Status: 'healthy', FailingStreak: 0, Log: [] } } })
    )
    source.start()
    await following()
    api.update(web.Id, {
      State: {
        Health: {
          Status: 'unhealthy',
          FailingStreak: 2,
          Log: [{ Output: 'connection refused\n' }],
        },
      },
    })
    api.emit('health_status: unhealthy', web.Id)
    await waitFor(() => sink.containers.get(web.Id)?.health === 'unhealthy', 'unhealthy')
    expect(sink.containers.get(web.Id)).toMatchObject({
      failingStreak: 2,
      lastProbeOutput: 'connection refused',
    })
  })

  it('records an explicit restart, which resets RestartCount, as a restart', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(inspectInfo('web'))
    source.start()
    await following()
    const at = Date.now()
    api.emit('restart', web.Id, {}, at * 1e6)
    await waitFor(() => sink.containers.get(web.Id)?.restarts.length === 1, 'the restart')
    // JSON carries nanoseconds as a double: the millisecond may come back 1 lower.
    expect(sink.containers.get(web.Id)?.restarts[0]).toBeGreaterThanOrEqual(at - 1)
    expect(sink.containers.get(web.Id)?.restarts[0]).toBeLessThanOrEqual(at)
  })

  it('counts each policy restart once, however many events and inspects see it', async () => {
    const { api, sink, source, following } = setup()
    const loop = api.add(inspectInfo('loop'))
    source.start()
    await following()
    for (let n = 1; n <= 3; n++) {
      api.update(loop.Id, {
        RestartCount: n,
        State: { FinishedAt: new Date(Date.now() + n).toISOString() },
      })
      api.emit('die', loop.Id, { exitCode: '1' })
      api.emit('start', loop.Id)
      await waitFor(() => sink.containers.get(loop.Id)?.restartCount === n, `restart ${n}`)
    }
    api.emit('update', loop.Id)
    await waitFor(() => api.count('inspect') >= 5, 'another inspect')
    expect(sink.containers.get(loop.Id)?.restarts).toHaveLength(3)
  })

  it('removes a destroyed container, and a late inspect answer cannot bring it back', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(inspectInfo('web'))
    source.start()
    await following()
    const release = api.gate('inspect')
    api.emit('die', web.Id, { exitCode: '137' })
    await waitFor(() => api.count(`inspect ${web.Id.slice(0, 12)}`) === 2, 'the inspect after die')
    api.emit('destroy', web.Id)
    await waitFor(() => !sink.containers.has(web.Id), 'the removal')
    release() // the answer, taken before the destroy, still says "running"
    await settle()
    expect(sink.containers.has(web.Id)).toBe(false)
    expect(sink.log.at(-1)).toBe(`remove ${web.Id.slice(0, 12)}`)
  })

  it('coalesces a burst of events into at most two inspects of the container', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(inspectInfo('web'))
    source.start()
    await following()
    const base = api.count('inspect')
    const release = api.gate('inspect')
    for (const action of ['kill', 'die', 'stop', 'start', 'restart', 'update'])
      api.emit(action, web.Id)
    await waitFor(() => api.count('inspect') === base + 1, 'the first inspect')
    release()
    await waitFor(
      () => sink.containers.get(web.Id)?.restarts.length === 1,
      'the last event applied'
    )
    await settle()
    expect(api.count('inspect') - base).toBe(2)
  })

  it('handles a replayed event only once', async () => {
    const { api, source, following } = setup()
    const web = api.add(inspectInfo('web'))
    source.start()
    await following()
    const base = api.count('inspect')
    const t = Date.now() * 1e6
    api.emit('pause', web.Id, {}, t)
    await waitFor(() => api.count('inspect') === base + 1, 'the inspect')
    api.emit('pause', web.Id, {}, t)
    api.emit('unpause', web.Id, {}, t + 1000)
    await waitFor(() => api.count('inspect') === base + 2, 'the next inspect')
    await settle()
    expect(api.count('inspect')).toBe(base + 2)
  })

  it('skips garbage lines, warns once, and keeps following', async () => {
    const { api, sink, source, lines, following } = setup()
    const web = api.add(inspectInfo('web'))
    source.start()
    await following()
    api.stream.write(
      'not json\n{"Action":5}\n{"Type":"network","Action":"connect","Actor":{"ID":"aaaaaaaaaaaa"}}\n'
    )
    api.update(web.Id, { State: { Status: 'paused' } })
    api.emit('pause', web.Id)
    await waitFor(() => sink.containers.get(web.Id)?.state === 'paused', 'paused')
    expect(
      lines.filter((l) => l['msg'] === 'ignoring an unreadable docker event' && l['level'] === 40)
    ).toHaveLength(1)
    expect(sink.status?.state).toBe('following')
  })

  it('warns about bad labels once per container, not once per event', async () => {
    const { api, sink, source, lines, following } = setup()
    const web = api.add(
      inspectInfo('web', { Config: { Labels: { 'health-bridge.critical': 'maybe' } } })
    )
    source.start()
    await following()
    for (let i = 0; i < 3; i++) {
      api.emit('update', web.Id, {}, Date.now() * 1e6 + i * 1e3)
    }
    // Three events for one container: one inspect (its answer superseded by the events that came
    // meanwhile), plus one more whose answer is applied.
    await waitFor(
      () => api.count('inspect') >= 3 && sink.log.some((l) => l.startsWith('upsert')),
      'the inspects after the events'
    )
    const warnings = lines.filter((l) => l['msg'] === 'ignoring invalid health-bridge labels')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({
      container: 'proj-web-1',
      problems: ['health-bridge.critical="maybe": expected true or false'],
    })
  })
})

describe('DockerSource: recovery', () => {
  it('reconnects when the stream ends and resyncs: nothing missed stays wrong, no ghosts', async () => {
    const { api, sink, source, lines, following } = setup()
    const web = api.add(inspectInfo('web'))
    const worker = api.add(inspectInfo('worker'))
    source.start()
    await following()
    // Meanwhile, unseen: web is killed, worker removed, a new replica appears.
    api.update(web.Id, {
      State: { Status: 'exited', ExitCode: 137, FinishedAt: new Date().toISOString() },
    })
    api.containers.delete(worker.Id)
    const replica = api.add(inspectInfo('worker'))
    api.stream.end()
    await waitFor(() => sink.states().includes('disconnected'), 'disconnected')
    const lost = sink.statuses.find((s) => s.state === 'disconnected')
    expect(lost?.unreachableSince).toBeGreaterThan(0)
    expect(lost?.detail).toBe('the engine ended the events stream')
    expect(source.currentStatus.state).not.toBe('following')
    await waitFor(
      () => api.streams.length === 2 && sink.status?.state === 'following',
      'following again'
    )
    expect([...sink.containers.keys()].sort()).toEqual([web.Id, replica.Id].sort())
    expect(sink.containers.get(web.Id)).toMatchObject({ state: 'exited', exitCode: 137 })
    expect(sink.status).toMatchObject({ unreachableSince: null, detail: null })
    expect(
      lines.some((l) => l['msg'] === 'docker events stream lost; reconnecting' && l['level'] === 40)
    ).toBe(true)
    expect(lines.some((l) => l['msg'] === 'docker events stream re-established')).toBe(true)
  })

  it('says when a stream broke in the middle of an event', async () => {
    const { api, sink, source, following } = setup()
    source.start()
    await following()
    api.stream.write('{"Type":"container","Act')
    api.stream.end()
    await waitFor(() => sink.states().includes('disconnected'), 'disconnected')
    expect(sink.statuses.find((s) => s.state === 'disconnected')?.detail).toMatch(
      /in the middle of an event/
    )
  })

  it('reconnects when a line grows past the cap', async () => {
    const { api, sink, source, following } = setup()
    source.start()
    await following()
    api.stream.write(Buffer.alloc(MAX_LINE_BYTES + 1, 0x61))
    await waitFor(() => sink.states().includes('disconnected'), 'disconnected')
    expect(sink.statuses.find((s) => s.state === 'disconnected')?.detail).toMatch(
      /exceeded 1048576 bytes/
    )
    await waitFor(
      () => api.streams.length === 2 && sink.status?.state === 'following',
      'following again'
    )
  })

  it('reconnects when an inspect fails for another reason than 404', async () => {
    const { api, sink, source, following } = setup()
    const web = api.add(inspectInfo('web'))
    source.start()
    await following()
    api.failNext.set(
      'inspect',
      new DockerApiError('GET /containers/{id}/json timed out after 10000 ms', 'timeout')
    )
    api.emit('start', web.Id)
    await waitFor(() => sink.states().includes('disconnected'), 'disconnected')
    await waitFor(
      () => api.streams.length === 2 && sink.status?.state === 'following',
      'following again'
    )
  })

  it('renegotiates at once when the engine refuses the pinned version', async () => {
    const { api, sink, source, following } = setup({
      backoff: { initialMs: 60_000, factor: 1, maxMs: 60_000, jitter: 0 },
    })
    const web = api.add(inspectInfo('web'))
    source.start()
    await following()
    // The engine was upgraded under us: it now refuses 1.41.
    api.engine = { version: '29.0.0', apiVersion: '1.52' }
    api.failNext.set(
      'inspect',
      new DockerApiError(
        'GET /containers/{id}/json: HTTP 400 client version 1.41 is too old',
        'version',
        400
      )
    )
    api.emit('start', web.Id)
    await waitFor(() => sink.states().includes('disconnected'), 'the refusal')
    // No 60 s backoff: the next attempt negotiates right away.
    await waitFor(
      () => api.count('negotiate') === 2 && sink.status?.state === 'following',
      'renegotiation'
    )
  })

  it('with the engine down: disconnected with unreachableSince, backing off, gives up once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const onGiveUp = vi.fn()
    const { api, sink, source } = setup({
      giveUpAfterMs: 10_000,
      onGiveUp,
      backoff: { initialMs: 500, factor: 2, maxMs: 4000, jitter: 0 },
    })
    api.down = true
    const t0 = Date.now()
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(sink.status).toMatchObject({
      state: 'disconnected',
      unreachableSince: t0,
      synced: false,
    })
    expect(sink.status?.detail).toMatch(/ECONNREFUSED/)
    expect(api.count('negotiate')).toBe(1)
    await vi.advanceTimersByTimeAsync(499)
    expect(api.count('negotiate')).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(api.count('negotiate')).toBe(2)
    // 500, 1000, 2000, 4000, 4000 ...: retries at 0.5, 1.5, 3.5, 7.5, 11.5 s
    await vi.advanceTimersByTimeAsync(9_000)
    expect(api.count('negotiate')).toBe(5)
    expect(onGiveUp).toHaveBeenCalledTimes(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(onGiveUp).toHaveBeenCalledTimes(1)
    expect(onGiveUp.mock.calls[0]?.[0]).toMatch(/unreachable for 10s \(connect ECONNREFUSED/)
    expect(sink.status?.unreachableSince).toBe(t0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(onGiveUp).toHaveBeenCalledTimes(1)
    api.down = false
    await vi.advanceTimersByTimeAsync(4_000)
    expect(sink.status).toMatchObject({ state: 'following', unreachableSince: null })
  })

  it('gives up at once when the socket it was given a mount of was removed (dockerd restarted)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const onGiveUp = vi.fn()
    const { api, sink, source } = setup({ giveUpAfterMs: 120_000, onGiveUp })
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(sink.status?.state).toBe('following')
    // dockerd stops and deletes its socket; our bind mount still resolves, with no link left.
    api.down = true
    api.removed = true
    api.stream.destroy()
    await vi.advanceTimersByTimeAsync(0)
    expect(onGiveUp).toHaveBeenCalledTimes(1)
    expect(onGiveUp.mock.calls[0]?.[0]).toMatch(
      /mounted \(unix:\/\/\/fake\/docker.sock\) was removed/
    )
    // Still once, however often it retries meanwhile.
    await vi.advanceTimersByTimeAsync(30_000)
    expect(onGiveUp).toHaveBeenCalledTimes(1)
  })

  it('keeps retrying a removed socket when DOCKER_GIVE_UP_AFTER=0 (never give up)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const onGiveUp = vi.fn()
    const { api, sink, source } = setup({ giveUpAfterMs: 0, onGiveUp })
    api.down = true
    api.removed = true
    source.start()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(sink.status?.state).toBe('disconnected')
    expect(api.count('negotiate')).toBeGreaterThan(1)
    expect(onGiveUp).not.toHaveBeenCalled()
  })

  it('resets the backoff after a long healthy run, and not after a short one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, source } = setup({
      backoff: { initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0 },
      resetBackoffAfterMs: 30_000,
      reconcileEveryMs: 3_600_000,
    })
    api.down = true
    source.start()
    await vi.advanceTimersByTimeAsync(0) // fails: next wait 1 s
    await vi.advanceTimersByTimeAsync(1000) // fails: next 2 s
    api.down = false
    await vi.advanceTimersByTimeAsync(2000)
    expect(sink.status?.state).toBe('following')
    api.stream.end() // after a short run: the backoff goes on growing (4 s)
    await vi.advanceTimersByTimeAsync(3999)
    expect(sink.status?.state).toBe('disconnected')
    await vi.advanceTimersByTimeAsync(1)
    expect(sink.status?.state).toBe('following')
    await vi.advanceTimersByTimeAsync(31_000)
    api.stream.end() // after a long run: back to the first step (1 s)
    await vi.advanceTimersByTimeAsync(999)
    expect(sink.status?.state).toBe('disconnected')
    await vi.advanceTimersByTimeAsync(1)
    expect(sink.status?.state).toBe('following')
  })

  it('a stream cut again and again after it followed: every reconnect waits the first step only', async () => {
    // A socket proxy that ends the stream every few minutes (or seconds): each cut is routine,
    // and a backoff that grew with them would soon wait past DOCKER_STALE_AFTER.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, source, lines } = setup({
      backoff: { initialMs: 500, factor: 2, maxMs: 30_000, jitter: 0 },
      reconcileEveryMs: 3_600_000,
    })
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    for (let cut = 0; cut < 8; cut++) {
      expect(sink.status?.state).toBe('following')
      await vi.advanceTimersByTimeAsync(2000)
      api.stream.end()
      await vi.advanceTimersByTimeAsync(500)
    }
    expect(sink.status?.state).toBe('following')
    const waits = lines
      .filter((l) => l['msg'] === 'docker events stream lost; reconnecting')
      .map((l) => l['retryInMs'])
    expect(waits).toEqual(Array(8).fill(500))
  })

  it('reconciles once in a while: catches a missed removal and a missed change', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    // No event reports these changes, which also proves the stream stalled (tested below); a
    // grace longer than the test keeps this one about the reconciliation alone.
    const { api, sink, source } = setup({ reconcileEveryMs: 60_000, stallGraceMs: 3_600_000 })
    const web = api.add(inspectInfo('web'))
    const gone = api.add(inspectInfo('worker'))
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(sink.status?.state).toBe('following')
    const lists = api.count('list')
    api.containers.delete(gone.Id)
    api.update(web.Id, { State: { Status: 'paused' } })
    await vi.advanceTimersByTimeAsync(59_999)
    expect(api.count('list')).toBe(lists)
    await vi.advanceTimersByTimeAsync(1)
    expect(api.count('list')).toBe(lists + 1)
    expect(sink.containers.has(gone.Id)).toBe(false)
    expect(sink.containers.get(web.Id)?.state).toBe('paused')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(api.count('list')).toBe(lists + 2)
    // Nothing differs now: the reconciliation costs one list, no inspect.
    expect(api.calls.at(-1)).toBe('list')
  })

  it('a change the list shows and no event reports within the grace: the stream stalled, reopened once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const stalled = vi.fn()
    const { api, sink, source, lines } = setup({
      reconcileEveryMs: 60_000,
      stallGraceMs: 5_000,
      notify: {
        eventReceived: () => undefined,
        streamReconnected: () => undefined,
        streamStalled: stalled,
      },
    })
    const web = api.add(inspectInfo('web'))
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    const streams = api.streams.length
    // An event about an earlier change, just before the list, explains nothing about the next.
    await vi.advanceTimersByTimeAsync(57_000)
    api.emit('start', web.Id)
    await vi.advanceTimersByTimeAsync(1_000)
    // The stream says nothing more (stalled); the engine's state moves on.
    api.update(web.Id, { State: { Status: 'exited', ExitCode: 1 } })
    await vi.advanceTimersByTimeAsync(2_000)
    // The list corrects the state at once, and the stream is given its grace.
    expect(sink.containers.get(web.Id)?.state).toBe('exited')
    expect(sink.status?.state).toBe('following')
    await vi.advanceTimersByTimeAsync(4_999)
    expect(sink.status?.state).toBe('following')
    await vi.advanceTimersByTimeAsync(1)
    expect(
      sink.statuses.some((s) => s.state === 'disconnected' && /stalled/.test(s.detail ?? ''))
    ).toBe(true)
    expect(stalled).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(sink.status?.state).toBe('following')
    expect(api.streams.length).toBe(streams + 1)
    const warned = lines.filter((l) => Number(l['level']) >= 40).map((l) => l['msg'])
    expect(warned).toEqual(['docker events stream lost; reconnecting'])
  })

  it('a change whose event arrives just after the list is no stall', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, source } = setup({ reconcileEveryMs: 60_000, stallGraceMs: 5_000 })
    const web = api.add(inspectInfo('web'))
    const gone = api.add(inspectInfo('worker'))
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    const followedAt = sink.statuses.length
    api.update(web.Id, { State: { Status: 'paused' } })
    api.containers.delete(gone.Id)
    await vi.advanceTimersByTimeAsync(60_000)
    api.emit('pause', web.Id)
    api.emit('destroy', gone.Id)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(sink.statuses.slice(followedAt).some((s) => s.state !== 'following')).toBe(false)
    expect(sink.status?.state).toBe('following')
    expect(api.streams).toHaveLength(1)
  })

  it('a container being removed is no stall yet; gone without a destroy event, it is', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, source } = setup({ reconcileEveryMs: 60_000, stallGraceMs: 5_000 })
    const web = api.add(inspectInfo('web', { State: { Status: 'exited' } }))
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    // A slow removal: `removing` for minutes, no event until its `destroy`.
    api.update(web.Id, { State: { Status: 'removing' } })
    await vi.advanceTimersByTimeAsync(60_000 + 10_000)
    expect(sink.status?.state).toBe('following')
    api.containers.delete(web.Id)
    await vi.advanceTimersByTimeAsync(50_000)
    expect(sink.containers.has(web.Id)).toBe(false)
    expect(sink.status?.state).toBe('following')
    await vi.advanceTimersByTimeAsync(5_000)
    expect(sink.statuses.some((s) => /stalled/.test(s.detail ?? ''))).toBe(true)
  })

  it('treats a failed reconciliation as a dead stream', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, source } = setup({ reconcileEveryMs: 60_000 })
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    api.failNext.set(
      'list',
      new DockerApiError('GET /containers/json timed out after 10000 ms', 'timeout')
    )
    await vi.advanceTimersByTimeAsync(60_000)
    expect(
      sink.statuses.some((s) => s.state === 'disconnected' && /timed out/.test(s.detail ?? ''))
    ).toBe(true)
  })
})

describe('DockerSource: stop', () => {
  // Fake timers, so "promptly" needs no wall-clock bound: stop() must resolve without any time
  // passing, and leave no timer behind.
  it('stops while following: the stream is closed, no timer is left, nothing more arrives', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { api, sink, source } = setup()
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(sink.status?.state).toBe('following')
    expect(vi.getTimerCount()).toBe(1) // the reconciliation
    const t = Date.now()
    await source.stop()
    expect(Date.now()).toBe(t)
    expect(api.stream.destroyed).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    const delivered = sink.log.length + sink.statuses.length
    api.emit('start', 'a'.repeat(64))
    await vi.advanceTimersByTimeAsync(120_000)
    expect(sink.log.length + sink.statuses.length).toBe(delivered)
    expect(api.calls.filter((c) => c === 'list')).toHaveLength(1)
  })

  it('stops while waiting to reconnect, without waiting for the backoff or the give-up', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const onGiveUp = vi.fn()
    const { api, source } = setup({
      backoff: { initialMs: 60_000, factor: 1, maxMs: 60_000, jitter: 0 },
      giveUpAfterMs: 120_000,
      onGiveUp,
    })
    api.down = true
    source.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(api.count('negotiate')).toBe(1)
    expect(vi.getTimerCount()).toBe(2) // the backoff and the give-up
    const t = Date.now()
    await source.stop()
    expect(Date.now()).toBe(t)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(600_000)
    expect(api.count('negotiate')).toBe(1)
    expect(onGiveUp).not.toHaveBeenCalled()
  })

  it('stops promptly in the middle of a sync', async () => {
    const { api, source } = setup()
    api.add(inspectInfo('web'))
    api.gate('inspect')
    source.start()
    await waitFor(() => api.count('inspect') === 1, 'an inspect')
    await source.stop()
    expect(api.stream.destroyed).toBe(true)
  })

  it('is harmless before start and twice', async () => {
    const { source } = setup()
    await source.stop()
    source.start()
    await source.stop()
    expect(source.currentStatus.state).not.toBe('following')
  })
})
