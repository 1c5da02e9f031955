/**
 * The status page's script, bundled at build time into `/assets/page.js` (esbuild; see the
 * `build:page` script), so the page's CSP allows only 'self' and nothing inline.
 *
 * It keeps the page live with the bridge's own client: `subscribeHealth` follows
 * `health/stream` (whole documents and deltas alike), and on every change the page fetches the
 * re-rendered `page/fragment` (with If-None-Match) and swaps it in, so there is one renderer, on
 * the server, escaping everything. While the stream is refused or cut it polls the fragment
 * every 5 s; when the bridge cannot be reached it says so and greys the last state. All URLs
 * are relative to the page, so it works behind a proxy under a sub-path.
 */
import { subscribeHealth } from '../../client/index.js'

import { clock, relativeTimes } from './times.js'

const POLL_MS = 5000
/** Relative times ("4 min ago") and the connection line are refreshed this often. */
const TICK_MS = 15_000

type Mode = 'live' | 'polling' | 'offline'

function start(live: HTMLElement, conn: HTMLElement): void {
  const favicon = document.getElementById('favicon')
  const announce = document.getElementById('announce')
  const base = new URL('.', location.href)
  let mode: Mode = 'polling'
  let streamOpen = false
  let etag = live.dataset['etag'] ?? ''
  let lastUpdate = Date.now()
  let busy = false
  let again = false
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let announced = ''

  function show(next: Mode): void {
    mode = next
    conn.dataset['state'] = next
    const updated = `updated ${clock(lastUpdate)}`
    conn.textContent =
      next === 'live'
        ? `● Live: changes appear as they happen (${updated})`
        : next === 'polling'
          ? `◌ Checking every ${POLL_MS / 1000} s (${updated})`
          : `✕ Cannot reach the bridge: showing the state as of ${clock(lastUpdate)}; retrying`
    document.body.classList.toggle('stale', next === 'offline')
  }

  function applyMeta(): void {
    const root = live.firstElementChild
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
    relativeTimes(live)
  }

  // What the reader opened or closed (a long message, a list of instances), by `data-key`:
  // kept across swaps, which otherwise reset every <details> to how the server rendered it.
  const toggled = new Map<string, boolean>()
  live.addEventListener('click', (event) => {
    const summary = event.target instanceof Element ? event.target.closest('summary') : null
    const details = summary?.parentElement
    const key = details instanceof HTMLDetailsElement ? details.dataset['key'] : undefined
    if (details instanceof HTMLDetailsElement && key !== undefined) toggled.set(key, !details.open)
  })

  function swap(html: string): void {
    live.innerHTML = html
    for (const d of Array.from(live.querySelectorAll<HTMLDetailsElement>('details[data-key]'))) {
      const open = toggled.get(d.dataset['key'] ?? '')
      if (open !== undefined) d.open = open
    }
    applyMeta()
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
        swap(await res.text())
        etag = res.headers.get('etag') ?? ''
      } else if (res.status !== 304) {
        throw new Error(`HTTP ${res.status}`)
      }
      lastUpdate = Date.now()
      show(streamOpen ? 'live' : 'polling')
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

  applyMeta()
  show(mode)
  startPolling()
  subscribeHealth({
    baseUrl: base.href,
    // Whatever changed (a whole document or a delta), the server renders it.
    onHealth: () => void refresh(),
    onState: (state) => {
      if (state === 'open') {
        streamOpen = true
        stopPolling()
        show('live')
      } else if (state === 'reconnecting') {
        // Refused (MAX_STREAMS), cut, or the bridge is gone: poll meanwhile; the client retries.
        streamOpen = false
        startPolling()
        void refresh()
      }
    },
  })
  setInterval(() => {
    relativeTimes(live)
    show(mode)
  }, TICK_MS)
}

const live = document.getElementById('live')
const conn = document.getElementById('conn')
if (live && conn) start(live, conn)
