/** Times on the status page, in the reader's time zone and relative to now ("4 min ago"). */

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ago`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h} h ${m % 60} min ago`
  return `${Math.floor(h / 24)} days ago`
}

export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
}

/** Rewrites every `<time data-rel>` under `root`: the server wrote UTC; this localizes. */
export function relativeTimes(root: ParentNode, now = Date.now()): void {
  for (const el of Array.from(root.querySelectorAll<HTMLTimeElement>('time[data-rel]'))) {
    const at = Date.parse(el.dateTime)
    if (Number.isNaN(at)) continue
    const sameDay = new Date(at).toDateString() === new Date(now).toDateString()
    const when = sameDay ? clock(at) : new Date(at).toLocaleString()
    el.textContent = `${when} (${ago(now - at)})`
    el.title = new Date(at).toString()
  }
}
