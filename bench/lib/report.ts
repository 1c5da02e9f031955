/** What a bench hands back, and how figures are formatted for the terminal and the doc. */

export type Verdict = 'pass' | 'miss' | 'info' | 'skip'

export interface Row {
  figure: string
  value: string
  /** The baseline measured in the same run; empty when there is none. */
  baseline?: string
  ratio?: string
  target?: string
  verdict: Verdict
}

export interface BenchReport {
  id: string
  rows: Row[]
  /** Markdown tables with the raw figures (no prose: that lives in docs/benchmarks.md). */
  tables: string
  /** Set when the bench did not run, with the reason. */
  skipped?: string
  seconds: number
}

export interface BenchContext {
  quick: boolean
  /** Repetitions of each A/B pair, and seconds of one measured load run. */
  reps: number
  seconds: number
  log: (message: string) => void
}

const finite = (n: number, f: (n: number) => string) => (Number.isFinite(n) ? f(n) : 'n/a')

export const fmt = {
  int: (n: number) => finite(n, (x) => Math.round(x).toLocaleString('en-US')),
  num: (n: number, digits = 1) => finite(n, (x) => x.toFixed(digits)),
  ratio: (n: number) => finite(n, (x) => `${x.toFixed(2)}x`),
  ms: (n: number) => finite(n, (x) => `${Math.abs(x) < 10 ? x.toFixed(2) : x.toFixed(1)} ms`),
  pct: (n: number) => finite(n, (x) => `${x.toFixed(x < 10 ? 1 : 0)}%`),
  mib: (n: number) => finite(n, (x) => `${x.toFixed(0)} MiB`),
  bytes: (n: number) =>
    n >= 1024 * 1024
      ? `${(n / 1024 / 1024).toFixed(2)} MiB`
      : n >= 1024
        ? `${(n / 1024).toFixed(1)} KiB`
        : `${Math.round(n)} B`,
}

export const verdictOf = (ok: boolean): Verdict => (ok ? 'pass' : 'miss')

export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|')
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n')
}

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
]

export function summaryRows(reports: readonly BenchReport[]): string[][] {
  return reports.flatMap((r) =>
    r.skipped !== undefined
      ? [[r.id, `skipped: ${r.skipped}`, '', '', '', '', 'skip']]
      : r.rows.map((row) => [
          r.id,
          row.figure,
          row.value,
          row.baseline ?? '',
          row.ratio ?? '',
          row.target ?? '',
          row.verdict,
        ])
  )
}
