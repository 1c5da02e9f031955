/** What a benchmark hands back, and how it is shown: a table on stdout, a section in the doc. */

export type Verdict = 'pass' | 'miss' | 'info' | 'skip'

export interface Row {
  /** What is measured, e.g. `GET /health, 1,000 instances`. */
  figure: string
  /** The bridge's figure, formatted. */
  value: string
  /** The baseline measured in the same run, formatted; empty when there is none. */
  baseline?: string
  /** value / baseline (or baseline / value for latencies), formatted. */
  ratio?: string
  target?: string
  verdict: Verdict
}

export interface BenchReport {
  id: string
  title: string
  rows: Row[]
  /** Markdown: method, raw repetitions, tables, findings. */
  details: string
  /** Set when the bench did not run, with the reason. */
  skipped?: string
  seconds: number
}

export interface BenchContext {
  quick: boolean
  /** Repetitions of each A/B pair. */
  reps: number
  /** Seconds of one measured load run. */
  seconds: number
  warmupSeconds: number
  /** Profile the bridge even when every target is met. */
  profile: boolean
  log: (message: string) => void
}

export const fmt = {
  int: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a'),
  num: (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a'),
  ratio: (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a'),
  ms: (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : 'n/a'),
  pct: (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)}%` : 'n/a'),
  mib: (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)} MiB` : 'n/a'),
  kib: (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`,
}

export function verdictOf(ok: boolean): Verdict {
  return ok ? 'pass' : 'miss'
}

/** A markdown table from a header row and data rows. */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|')
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n')
}

/** A plain-text table for the terminal. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export const SUMMARY_HEADER = [
  'bench',
  'figure',
  'bridge',
  'baseline',
  'ratio',
  'target',
  'verdict',
] as const

export function summaryRows(reports: readonly BenchReport[]): string[][] {
  const out: string[][] = []
  for (const r of reports) {
    if (r.skipped !== undefined) {
      out.push([r.id, `skipped: ${r.skipped}`, '', '', '', '', 'skip'])
      continue
    }
    for (const row of r.rows) {
      out.push([
        r.id,
        row.figure,
        row.value,
        row.baseline ?? '',
        row.ratio ?? '',
        row.target ?? '',
        row.verdict,
      ])
    }
  }
  return out
}
