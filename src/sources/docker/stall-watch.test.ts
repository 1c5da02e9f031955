import { describe, expect, it } from 'vitest'

import { StallWatch } from './stall-watch.js'

const GRACE = 5_000
const T = 1_000_000

describe('StallWatch: when a change in the list proves the stream stalled', () => {
  it('a change no event reports is unexplained once the grace has passed, not before', () => {
    const watch = new StallWatch(GRACE)
    expect(watch.differed(['a'], T)).toBe(T + GRACE)
    expect(watch.unexplained(T + GRACE - 1)).toEqual([])
    expect(watch.unexplained(T + GRACE)).toEqual(['a'])
    // Reported once: the check is used up.
    expect(watch.unexplained(T + 2 * GRACE)).toEqual([])
  })

  it('an event within the grace after the list explains it: the list raced the event', () => {
    const watch = new StallWatch(GRACE)
    expect(watch.differed(['a', 'b'], T)).toBe(T + GRACE)
    watch.event('a', T + GRACE - 1)
    expect(watch.unexplained(T + GRACE)).toEqual(['b'])
  })

  it('an event that arrived while the list was on its way explains it at once', () => {
    const watch = new StallWatch(GRACE)
    watch.event('a', T + 3)
    expect(watch.differed(['a'], T)).toBeNull()
  })

  it('an event from before the list does not: it was about an earlier change (a start, then a silent kill)', () => {
    const watch = new StallWatch(GRACE)
    watch.event('a', T - 1)
    expect(watch.differed(['a'], T)).toBe(T + GRACE)
    expect(watch.unexplained(T + GRACE)).toEqual(['a'])
  })

  it('only the containers that changed count: events for others prove nothing about them', () => {
    const watch = new StallWatch(GRACE)
    watch.differed(['a'], T)
    watch.event('b', T + 10)
    expect(watch.unexplained(T + GRACE)).toEqual(['a'])
  })

  it('keeps the checks of several lists apart, each due at its own time', () => {
    const watch = new StallWatch(GRACE)
    watch.differed(['a'], T)
    watch.differed(['b'], T + 1000)
    watch.event('b', T + 500) // before b's list: explains nothing there
    expect(watch.unexplained(T + GRACE)).toEqual(['a'])
    expect(watch.unexplained(T + GRACE + 999)).toEqual([])
    expect(watch.unexplained(T + GRACE + 1000)).toEqual(['b'])
  })

  it('no change, nothing to check', () => {
    const watch = new StallWatch(GRACE)
    expect(watch.differed([], T)).toBeNull()
    expect(watch.unexplained(T + GRACE)).toEqual([])
  })
})
