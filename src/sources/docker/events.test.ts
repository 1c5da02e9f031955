import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { eventFilters, eventKey, parseEventLine, SUBSCRIBED_ACTIONS } from './events.js'

const recorded = readFileSync(
  new URL('../../../test/fixtures/docker/events-engine-20.10.ndjson', import.meta.url),
  'utf8'
)
  .split('\n')
  .filter((l) => l !== '')

const ID = 'a'.repeat(64)

describe('parseEventLine', () => {
  it('reads every event recorded from Engine 20.10', () => {
    const parsed = recorded.map(parseEventLine)
    expect(parsed.every((p) => p.ok)).toBe(true)
    const events = parsed.flatMap((p) => (p.ok ? [p.event] : []))
    expect(events.map((e) => e.action)).toContain('health_status')
    expect(events.filter((e) => e.action === 'die')).toHaveLength(6)
    expect(events.filter((e) => e.action === 'health_status')).toHaveLength(3)
    for (const e of events) {
      expect(e.id).toMatch(/^[0-9a-f]{64}$/)
      expect(e.at).toBeGreaterThan(Date.parse('2020-01-01'))
      expect(Math.abs(e.at - e.timeNano / 1e6)).toBeLessThan(1)
    }
  })

  it('reads the Engine 29 shape (API >= 1.52 dropped status, id and from)', () => {
    const line = JSON.stringify({
      Type: 'container',
      Action: 'die',
      Actor: { ID, Attributes: { exitCode: '2', name: 'p-web-1' } },
      scope: 'local',
      time: 1_795_000_000,
      timeNano: 1_795_000_000_123_456_800, // JSON.parse rounds to ~256 ns anyway
    })
    const parsed = parseEventLine(line)
    expect(parsed).toMatchObject({ ok: true, event: { action: 'die', id: ID, exitCode: 2 } })
    // Of the attributes (every label of the container), only the exit code is kept.
    expect(JSON.stringify(parsed)).not.toContain('p-web-1')
  })

  it('reads the health a health_status event reports, and nothing from other actions', () => {
    const health = parseEventLine(
      JSON.stringify({ Action: 'health_status: unhealthy', Actor: { ID }, time: 1 })
    )
    expect(health).toMatchObject({
      ok: true,
      event: { action: 'health_status', health: 'unhealthy' },
    })
    const start = parseEventLine(
      JSON.stringify({ Action: 'start', Actor: { ID, Attributes: { exitCode: '1' } }, time: 1 })
    )
    expect(start).toMatchObject({ ok: true, event: { exitCode: null, health: null } })
  })

  it('falls back to `time` when `timeNano` is missing', () => {
    const parsed = parseEventLine(
      JSON.stringify({ Action: 'start', Actor: { ID }, time: 1_795_000_000 })
    )
    expect(parsed).toMatchObject({ ok: true, event: { at: 1_795_000_000_000 } })
  })

  it.each([
    { desc: 'not JSON', line: '{"Action":"start",', why: /not JSON/ },
    { desc: 'a JSON array', line: '[1,2]', why: /unexpected shape/ },
    { desc: 'no actor', line: '{"Action":"start"}', why: /Actor/ },
    {
      desc: 'an actor id that is no container id',
      line: '{"Action":"start","Actor":{"ID":"../../x"}}',
      why: /Actor.ID/,
    },
  ])('rejects $desc as garbage', ({ line, why }) => {
    const parsed = parseEventLine(line)
    expect(parsed).toMatchObject({ ok: false, ignored: false })
    if (!parsed.ok) expect(parsed.why).toMatch(why)
  })

  it.each([
    {
      desc: 'another object type',
      line: `{"Type":"network","Action":"connect","Actor":{"ID":"${ID}"}}`,
    },
    {
      desc: 'healthcheck exec noise',
      line: `{"Type":"container","Action":"exec_start: sh -c true","Actor":{"ID":"${ID}"}}`,
    },
    {
      desc: 'an action we did not ask for',
      line: `{"Type":"container","Action":"attach","Actor":{"ID":"${ID}"}}`,
    },
  ])('ignores $desc without calling it garbage', ({ line }) => {
    expect(parseEventLine(line)).toMatchObject({ ok: false, ignored: true })
  })

  it('never quotes the line (attributes carry every label of the container)', () => {
    const secretish = `{"Action":"start","Actor":{"ID":"nope","Attributes":{"token":"s3cr3t-label"}}}`
    const parsed = parseEventLine(secretish)
    expect(JSON.stringify(parsed)).not.toContain('s3cr3t')
    expect(JSON.stringify(parseEventLine('s3cr3t not json'))).not.toContain('s3cr3t')
  })

  it('keeps only the attributes it needs', () => {
    const parsed = parseEventLine(
      JSON.stringify({
        Action: 'start',
        Actor: { ID, Attributes: { 'com.example.password': 'pw' } },
        time: 1,
      })
    )
    expect(JSON.stringify(parsed)).not.toContain('pw')
  })
})

describe('eventFilters', () => {
  it('asks the engine for the project’s container lifecycle events only', () => {
    const filters = eventFilters('clp-package')
    expect(filters).toEqual({
      type: ['container'],
      label: ['com.docker.compose.project=clp-package'],
      event: [...SUBSCRIBED_ACTIONS],
    })
    // health_status makes the engine prefix-match the list: no entry may be a prefix of exec_*.
    expect(
      filters.event?.some((a) => 'exec_create'.startsWith(a) || 'exec_start'.startsWith(a))
    ).toBe(false)
  })
})

describe('eventKey', () => {
  it('is the same for a replayed event and differs between events', () => {
    const [a, b] = recorded.map(parseEventLine).flatMap((p) => (p.ok ? [p.event] : []))
    if (!a || !b) throw new Error('fixture too short')
    expect(eventKey(a)).toBe(eventKey({ ...a }))
    expect(eventKey(a)).not.toBe(eventKey(b))
  })
})
