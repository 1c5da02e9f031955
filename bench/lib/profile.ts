/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and says where the time went during a
 * window of it (the load, not start-up): self time by area (our code per file, hono, zod, pino,
 * Node internals, GC) and by function, and inclusive time of our own functions (what a request
 * costs beneath each of them, library calls included).
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  /** Sampled milliseconds that were not idle, within the window. */
  busyMs: number
  windowMs: number
  /** Share of busy time per area (self time), largest first. */
  areas: { area: string; pct: number }[]
  /** Self time per function, largest first. */
  functions: { fn: string; where: string; pct: number }[]
  /** Inclusive time of functions in our code (and the middleware chain), largest first. */
  inclusive: { fn: string; where: string; pct: number }[]
}

const OURS = /\/bench\/out\/dist\/(.+)$/

function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(program)' || fn === '(root)') return 'V8/native (program)'
  const m = OURS.exec(url)
  if (m) return `ours: src/${(m[1] ?? '').replace(/\.js$/, '.ts')}`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1] ?? 'node_modules'
  if (url.startsWith('node:')) return 'node core (JS)'
  if (url === '') return 'native (JSON, sockets, crypto...)'
  return url
}

function shortWhere(url: string, line: number): string {
  const m = OURS.exec(url)
  if (m) return `src/${(m[1] ?? '').replace(/\.js$/, '.ts')} (compiled, line ${line + 1})`
  const pkg = /node_modules\/(.+)$/.exec(url)
  if (pkg) return `${pkg[1] ?? ''}:${line + 1}`
  return url === '' ? '(native)' : `${url}:${line + 1}`
}

/**
 * `window` is in milliseconds since the profile started (about when the process started), so
 * start-up and population can be left out.
 */
export function summarizeProfile(
  file: string,
  window?: { fromMs: number; toMs: number },
  top = 12
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  const self = new Map<number, number>()
  let t = 0
  let firstT = Number.NaN
  let lastT = 0
  for (let i = 0; i < profile.samples.length; i++) {
    t += (profile.timeDeltas[i] ?? 0) / 1000
    if (window && (t < window.fromMs || t > window.toMs)) continue
    if (Number.isNaN(firstT)) firstT = t
    lastT = t
    const id = profile.samples[i] ?? -1
    self.set(id, (self.get(id) ?? 0) + 1)
  }
  const samples = [...self.values()].reduce((a, b) => a + b, 0)
  const msPerSample = samples === 0 ? 0 : (lastT - firstT) / samples

  const areas = new Map<string, number>()
  const fns = new Map<string, { fn: string; where: string; hits: number }>()
  const incl = new Map<string, { fn: string; where: string; hits: number }>()
  let busy = 0
  for (const [id, hits] of self) {
    const n = byId.get(id)
    if (!n || n.callFrame.functionName === '(idle)') continue
    busy += hits
    const area = areaOf(n.callFrame.url, n.callFrame.functionName)
    areas.set(area, (areas.get(area) ?? 0) + hits)
    const where = shortWhere(n.callFrame.url, n.callFrame.lineNumber)
    const fn = n.callFrame.functionName || '(anonymous)'
    const key = `${fn}@${where}`
    const e = fns.get(key) ?? { fn, where, hits: 0 }
    e.hits += hits
    fns.set(key, e)
    // Inclusive: every distinct function of ours on this stack gets the sample once.
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame
      if (!frame || !OURS.test(frame.url)) continue
      const w = shortWhere(frame.url, frame.lineNumber)
      const f = frame.functionName || '(anonymous)'
      const k = `${f}@${w}`
      if (seen.has(k)) continue
      seen.add(k)
      const ie = incl.get(k) ?? { fn: f, where: w, hits: 0 }
      ie.hits += hits
      incl.set(k, ie)
    }
  }
  const pct = (h: number) => (h / Math.max(1, busy)) * 100
  const topOf = (m: Map<string, { fn: string; where: string; hits: number }>) =>
    [...m.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, pct: pct(f.hits) }))
  return {
    busyMs: busy * msPerSample,
    windowMs: Number.isNaN(firstT) ? 0 : lastT - firstT,
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([area, h]) => ({ area, pct: pct(h) })),
    functions: topOf(fns),
    inclusive: topOf(incl),
  }
}

/** The newest .cpuprofile in a directory. */
export function newestProfile(dir: string): string | null {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
  const last = files.at(-1)
  return last === undefined ? null : join(dir, last)
}

/** Markdown for a summary: areas (where to look), our functions inclusive, hottest self time. */
export function profileMarkdown(s: ProfileSummary, maxAreas = 10): string {
  const row = (f: { fn: string; where: string; pct: number }) =>
    `| \`${f.fn}\` | ${f.where} | ${f.pct.toFixed(1)}% |`
  return [
    `Busy CPU in the load window: ${(s.busyMs / 1000).toFixed(1)} s of ${(s.windowMs / 1000).toFixed(1)} s.`,
    '',
    '| area (self time) | share of busy CPU |',
    '|---|---|',
    ...s.areas.slice(0, maxAreas).map((a) => `| ${a.area} | ${a.pct.toFixed(1)}% |`),
    '',
    '| our functions, inclusive (with what they call) | where | share |',
    '|---|---|---|',
    ...s.inclusive.map(row),
    '',
    '| hottest functions, self time | where | share |',
    '|---|---|---|',
    ...s.functions.map(row),
  ].join('\n')
}
