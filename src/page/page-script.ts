/**
 * The status page's only script, served as `/assets/page.js` (so the page's CSP needs no
 * 'unsafe-inline'). Written in TypeScript so it is type-checked and linted with the rest, then
 * shipped as the compiled function's source: it must not refer to anything outside itself.
 *
 * It keeps the page live: on every `health` event of `health/stream` it fetches the re-rendered
 * `page/fragment` (with If-None-Match) and swaps it in, so there is one renderer, on the server,
 * escaping everything. Without EventSource, or when the stream is refused or cut, it polls the
 * fragment every 5 s; when the bridge cannot be reached it says so and greys the last state.
 * Relative times ("4 min ago") are refreshed every 15 s. All URLs are relative to the page, so
 * it works behind a proxy under a sub-path.
 */
export function pageScript(): void {
  const POLL_MS = 5000
  const RECONNECT_MS = 30_000
  const live = document.getElementById('live')
  const conn = document.getElementById('conn')
  const favicon = document.getElementById('favicon')
  const announce = document.getElementById('announce')
  if (!live || !conn) return
  const liveEl: HTMLElement = live
  const connEl: HTMLElement = conn
  const base = new URL('.', location.href)

  type Mode = 'live' | 'polling' | 'offline'
  let mode: Mode = 'polling'
  let etag = liveEl.dataset['etag'] ?? ''
  let lastUpdate = Date.now()
  let busy = false
  let again = false
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let source: EventSource | null = null
  let announced = ''

  function ago(ms: number): string {
    const s = Math.max(0, Math.round(ms / 1000))
    if (s < 5) return 'just now'
    if (s < 60) return `${s} s ago`
    const m = Math.floor(s / 60)
    if (m < 60) return `${m} min ago`
    const h = Math.floor(m / 60)
    if (h < 48) return `${h} h ${m % 60} min ago`
    return `${Math.floor(h / 24)} days ago`
  }

  function clock(ms: number): string {
    return new Date(ms).toLocaleTimeString([], {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
  }

  function relativeTimes(): void {
    const now = Date.now()
    for (const el of Array.from(liveEl.querySelectorAll<HTMLTimeElement>('time[data-rel]'))) {
      const at = Date.parse(el.dateTime)
      if (Number.isNaN(at)) continue
      const sameDay = new Date(at).toDateString() === new Date(now).toDateString()
      const when = sameDay ? clock(at) : new Date(at).toLocaleString()
      el.textContent = `${when} (${ago(now - at)})`
      el.title = new Date(at).toString()
    }
  }

  function show(next: Mode): void {
    mode = next
    connEl.dataset['state'] = next
    const updated = `updated ${clock(lastUpdate)}`
    connEl.textContent =
      next === 'live'
        ? `● Live: changes appear as they happen (${updated})`
        : next === 'polling'
          ? `◌ Checking every ${POLL_MS / 1000} s (${updated})`
          : `✕ Cannot reach the bridge: showing the state as of ${clock(lastUpdate)}; retrying`
    document.body.classList.toggle('stale', next === 'offline')
  }

  function applyMeta(): void {
    const root = liveEl.firstElementChild
    if (root instanceof HTMLElement) {
      if (root.dataset['title']) document.title = root.dataset['title']
      if (favicon && root.dataset['icon']) favicon.setAttribute('href', root.dataset['icon'])
      // Announce the overall status when it changes (not on the first render).
      const status = root.dataset['status'] ?? ''
      if (announce && announced !== '' && status !== announced) {
        announce.textContent = `${status}: ${root.dataset['headline'] ?? ''}`
      }
      announced = status
    }
    relativeTimes()
  }

  async function refresh(): Promise<void> {
    if (busy) {
      again = true
      return
    }
    busy = true
    try {
      const headers: Record<string, string> = etag === '' ? {} : { 'if-none-match': etag }
      const res = await fetch(new URL('page/fragment', base), { headers, cache: 'no-store' })
      if (res.status === 200) {
        liveEl.innerHTML = await res.text()
        etag = res.headers.get('etag') ?? ''
        applyMeta()
      } else if (res.status !== 304) {
        throw new Error(`HTTP ${res.status}`)
      }
      lastUpdate = Date.now()
      show(source?.readyState === EventSource.OPEN ? 'live' : 'polling')
    } catch {
      show('offline')
    } finally {
      busy = false
      if (again) {
        again = false
        void refresh()
      }
    }
  }

  function startPolling(): void {
    pollTimer ??= setInterval(() => void refresh(), POLL_MS)
  }

  function stopPolling(): void {
    if (pollTimer !== undefined) clearInterval(pollTimer)
    pollTimer = undefined
  }

  function connect(): void {
    if (typeof EventSource === 'undefined') {
      startPolling()
      return
    }
    const es = new EventSource(new URL('health/stream', base))
    source = es
    es.addEventListener('health', () => void refresh())
    es.onopen = () => {
      stopPolling()
      show('live')
    }
    es.onerror = () => {
      // CONNECTING: the browser retries by itself; CLOSED: it gave up (a 429, a proxy's 502).
      // Either way, poll meanwhile so the page stays right.
      startPolling()
      void refresh()
      if (es.readyState === EventSource.CLOSED) {
        source = null
        setTimeout(connect, RECONNECT_MS)
      }
    }
  }

  applyMeta()
  show(mode)
  connect()
  setInterval(() => {
    relativeTimes()
    show(mode)
  }, 15_000)
}

/**
 * The script as served. Under tsx and vitest, esbuild's keepNames wraps inner functions in a
 * `__name(fn, "name")` helper that lives outside the function; the one-line stand-in keeps the
 * shipped source self-contained whichever compiler produced it (tsc's output never calls it).
 */
export const PAGE_JS = `"use strict";\nvar __name = function (fn) { return fn; };\n(${pageScript.toString()})();\n`
