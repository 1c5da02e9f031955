import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { DeadlineQueue } from './deadlines.js'

describe('DeadlineQueue', () => {
  it('pops due keys earliest first and keeps the rest', () => {
    const q = new DeadlineQueue()
    q.set('b', 20)
    q.set('a', 10)
    q.set('c', 30)
    expect(q.peek()).toBe(10)
    expect(q.popDue(25)).toEqual(['a', 'b'])
    expect(q.peek()).toBe(30)
    expect(q.popDue(29)).toEqual([])
  })

  it('lets a newer deadline of a key replace the older one, earlier or later', () => {
    const q = new DeadlineQueue()
    q.set('a', 10)
    q.set('a', 50)
    q.set('b', 30)
    expect(q.peek()).toBe(30)
    expect(q.popDue(40)).toEqual(['b'])
    q.set('a', 5)
    expect(q.popDue(6)).toEqual(['a'])
    expect(q.peek()).toBeNull()
  })

  it('forgets a cleared key', () => {
    const q = new DeadlineQueue()
    q.set('a', 10)
    q.set('a', null)
    expect(q.peek()).toBeNull()
    expect(q.popDue(100)).toEqual([])
    expect(q.size).toBe(0)
  })

  it('stays as small as its live keys when one key is re-set many times', () => {
    const q = new DeadlineQueue()
    for (let i = 0; i < 10_000; i++) q.set('a', 1_000_000 - i)
    q.set('b', 5)
    expect(q.popDue(10)).toEqual(['b'])
    expect(q.popDue(1_000_000)).toEqual(['a'])
    expect(q.peek()).toBeNull()
  })

  it('agrees with a plain map for any sequence of sets and pops', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        at: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
      }),
      fc.record({ kind: fc.constant('pop' as const), now: fc.integer({ min: 0, max: 100 }) })
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const q = new DeadlineQueue()
        const model = new Map<string, number>()
        for (const o of ops) {
          if (o.kind === 'set') {
            q.set(o.key, o.at)
            if (o.at === null) model.delete(o.key)
            else model.set(o.key, o.at)
          } else {
            const due = [...model].filter(([, at]) => at <= o.now).map(([k]) => k)
            for (const k of due) model.delete(k)
            expect(new Set(q.popDue(o.now))).toEqual(new Set(due))
          }
          const min = model.size === 0 ? null : Math.min(...model.values())
          expect(q.peek()).toBe(min)
        }
      }),
      { seed: 1, numRuns: 300 }
    )
  })
})
