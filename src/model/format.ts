/**
 * How the model writes durations and instants into messages. Messages never carry ever-changing
 * numbers ("5s ago"), so a status that has not changed serves the same bytes.
 */

/** Formats milliseconds the way users write them: `30s`, `15m`, `1h30m`, `500ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms % 1000 !== 0) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')}s`
  let s = ms / 1000
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`)
      s %= size
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`)
  return parts.join('')
}

/** `10:00:05Z`: short enough for a message, and fixed once written. */
export function clockTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(11, 19)}Z`
}
