/** Renders docs/benchmarks.md from one run: nothing in it is typed by hand except bench/NOTES.md. */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import type { BackgroundLoad, MachineFacts } from './machine.js'
import { REPO_ROOT } from './paths.js'
import {
  SUMMARY_HEADER,
  mdTable,
  summaryRows,
  type BenchContext,
  type BenchReport,
} from './report.js'

export interface DocInput {
  reports: readonly BenchReport[]
  facts: MachineFacts
  before: BackgroundLoad
  after: BackgroundLoad
  started: Date
  totalSeconds: number
  command: string
  ctx: BenchContext
  note: string | null
}

function load(l: BackgroundLoad): string {
  const top = l.top
    .filter((t) => t.cpuPct >= 2)
    .map((t) => `\`${t.command}\` ${t.cpuPct}%`)
    .join(', ')
  return `${l.busyPct.toFixed(0)}% of all cores busy, load average ${l.loadAvg1m.toFixed(2)}${top ? `; busiest: ${top}` : ''}`
}

export function renderDoc(d: DocInput): string {
  const f = d.facts
  const notesFile = join(REPO_ROOT, 'bench', 'NOTES.md')
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim() : ''
  const sections = d.reports.map((r) =>
    [
      `## ${r.id}: ${r.title}`,
      '',
      r.skipped !== undefined ? `Skipped: ${r.skipped}` : r.details,
      '',
      `_(${r.seconds.toFixed(0)} s)_`,
    ].join('\n')
  )
  return [
    '# Benchmarks',
    '',
    `> Written by \`${d.command}\` on ${d.started.toISOString().slice(0, 16).replace('T', ' ')} UTC; re-run it rather than editing this file.`,
    '',
    'How fast, how light and how quick to notice health-bridge is, each figure that matters as a ratio against a baseline measured in the same run (A/B interleaved, several repetitions, medians): absolute numbers on a shared 2-core machine move with whatever else runs, ratios much less.',
    '',
    '## Summary',
    '',
    mdTable(SUMMARY_HEADER, summaryRows(d.reports)),
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm ci',
    d.command,
    '```',
    '',
    `The whole run took ${Math.round(d.totalSeconds)} s (${d.ctx.quick ? 'quick mode' : 'full mode'}: ${d.ctx.reps} repetitions of ${d.ctx.seconds} s per side and figure). \`npm run bench -- --only read,write\` runs a subset, \`--quick\` a shorter pass, \`--profile\` adds CPU profiles even where targets are met; partial and quick runs write \`bench/out/benchmarks.md\` instead of this file unless \`--write-doc\` is given. Raw results: \`bench/out/results.json\`, server logs: \`bench/out/logs/\`. Benches that need Docker skip with a printed reason when no engine answers at /var/run/docker.sock.`,
    '',
    '## Machine',
    '',
    mdTable(
      ['fact', 'value'],
      [
        ['CPU', `${f.cpus} x ${f.cpuModel}`],
        ['memory', `${f.memGiB} GiB`],
        ['kernel', f.kernel],
        ['Node', f.node],
        ['Docker', f.engine ?? 'no engine'],
        ['Compose', f.compose ?? 'not installed'],
        ['commit', f.commit],
        ['date', d.started.toISOString()],
        ['other work before the run', load(d.before)],
        ['other work after the run', load(d.after)],
        ...(d.note === null ? [] : [['note', d.note]]),
      ]
    ),
    '',
    "The load generator (autocannon, in the runner process) and the server under test (a child process) share these cores; the server gets one, the generator the other, so neither measures the other's event loop.",
    '',
    ...(notes === '' ? [] : ['## Findings and recommendations', '', notes, '']),
    ...sections.flatMap((s) => [s, '']),
  ].join('\n')
}
