import { describe, expect, it } from 'vitest'

import { Backoff, DEFAULT_BACKOFF } from './backoff.js'

describe('Backoff', () => {
  it('grows by its factor up to the cap', () => {
    const b = new Backoff({ ...DEFAULT_BACKOFF, jitter: 0 })
    const delays = Array.from({ length: 14 }, () => b.next())
    expect(delays.slice(0, 4)).toEqual([500, 750, 1125, 1688])
    expect(Math.max(...delays)).toBe(30_000)
    expect(delays.at(-1)).toBe(30_000)
  })

  it('starts over after reset', () => {
    const b = new Backoff({ ...DEFAULT_BACKOFF, jitter: 0 })
    b.next()
    b.next()
    b.reset()
    expect(b.next()).toBe(500)
  })

  it('spreads each delay by the jitter and never passes the cap', () => {
    const low = new Backoff({ ...DEFAULT_BACKOFF, random: () => 0 })
    const high = new Backoff({ ...DEFAULT_BACKOFF, random: () => 0.999999 })
    expect(low.next()).toBe(250)
    expect(high.next()).toBe(750)
    for (let i = 0; i < 30; i++) {
      expect(high.next()).toBeLessThanOrEqual(30_000)
      expect(low.next()).toBeGreaterThanOrEqual(250)
    }
  })

  it('does not overflow after very many attempts', () => {
    const b = new Backoff({ ...DEFAULT_BACKOFF, jitter: 0 })
    for (let i = 0; i < 5000; i++) b.next()
    expect(b.next()).toBe(30_000)
  })
})
