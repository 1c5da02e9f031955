import { z } from 'zod'

import { formatDuration } from '../model/format.js'

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy
const MAX_MS = 30 * 86_400_000

export const DURATION_HINT = 'a duration such as 500ms, 30s, 15m, 1h, 1m30s or plain seconds'

/**
 * Parses `500ms`, `30s`, `15m`, `1h`, `1m30s` or plain seconds (`45`, `0.5`) into milliseconds.
 * Returns undefined for anything else, so callers can say which variable or key was wrong.
 */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 && input * 1000 <= MAX_MS
      ? Math.round(input * 1000)
      : undefined
  }
  const text = input.trim()
  if (/^\d+(?:\.\d+)?$/.test(text)) return parseDuration(Number(text))
  if (text === '') return undefined
  let total = 0
  PART.lastIndex = 0
  let consumed = 0
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    const [, amount, unit] = m
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]
    consumed = PART.lastIndex
  }
  if (consumed !== text.length) return undefined
  return total <= MAX_MS ? Math.round(total) : undefined
}

/** A zod schema for a duration given as a string or a number of seconds; yields milliseconds. */
export function durationSchema(opts: { min?: number } = {}) {
  const min = opts.min ?? 0
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value)
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HINT}` })
      return z.NEVER
    }
    if (ms < min) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at least ${formatDuration(min)} (${DURATION_HINT})`,
      })
      return z.NEVER
    }
    return ms
  })
}
