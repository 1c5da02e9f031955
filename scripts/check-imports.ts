/**
 * `npm run lint` runs this: imports in src/ must point one way (the layer table below, the same
 * one ARCHITECTURE.md draws) and form no cycle, type-only imports included. It reads imports
 * with TypeScript's own pre-processor, so it sees exactly what the compiler resolves.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import ts from 'typescript'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

/**
 * What each part of src/ may import, besides itself. Bottom: the pure vocabulary (model, wire)
 * and the dependency-free client library; then configuration, the core (render, store) and the
 * adapters (sources, stream, http, page, metrics); on top, the wiring (app, bridge, main).
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  model: [],
  wire: ['model'],
  client: ['model', 'wire'],
  clock: [],
  logger: [],
  version: [],
  config: ['model', 'wire'],
  render: ['model', 'wire'],
  store: ['model', 'wire', 'render', 'clock', 'logger'],
  sources: ['model', 'wire', 'client', 'config', 'clock', 'logger'],
  stream: ['store', 'render', 'logger'],
  metrics: ['model', 'wire', 'store', 'sources', 'clock'],
  http: ['model', 'wire', 'config', 'store', 'render', 'stream', 'metrics', 'logger', 'clock'],
  page: ['model', 'wire', 'client', 'store', 'render', 'http'],
  healthcheck: ['config'],
  app: ['config', 'http', 'metrics', 'page', 'store', 'stream', 'logger', 'clock', 'version'],
  // http: the Node server's own guards (http/pipelining.ts), below the app's routes.
  bridge: [
    'app',
    'config',
    'http',
    'metrics',
    'sources',
    'store',
    'stream',
    'logger',
    'clock',
    'version',
  ],
  main: ['bridge', 'config', 'logger'],
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(p)
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : []
  })
}

const partOf = (file: string): string => relative(SRC, file).split(/[/.]/)[0] ?? ''

const files = sourceFiles(SRC)
const known = new Set(files)
const imports = new Map<string, string[]>()
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  const targets = importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => {
      const base = resolve(dirname(file), name).replace(/\.js$/, '')
      return [`${base}.ts`, `${base}.tsx`].find((f) => known.has(f)) ?? `${base}.ts`
    })
  imports.set(file, targets)
}

const problems: string[] = []
for (const [file, targets] of imports) {
  const from = partOf(file)
  const allowed = MAY_IMPORT[from]
  if (allowed === undefined) {
    problems.push(
      `${relative(SRC, file)}: src/${from} has no place in the layer table of scripts/check-imports.ts`
    )
    continue
  }
  for (const target of targets) {
    const to = partOf(target)
    if (to !== from && !allowed.includes(to)) {
      problems.push(
        `${relative(SRC, file)} imports ${relative(SRC, target)}: ${from} may not import ${to}`
      )
    }
  }
}

// Cycles, by Tarjan's strongly connected components over files.
let counter = 0
const index = new Map<string, number>()
const low = new Map<string, number>()
const stack: string[] = []
const onStack = new Set<string>()
function visit(v: string): void {
  index.set(v, counter)
  low.set(v, counter++)
  stack.push(v)
  onStack.add(v)
  for (const w of imports.get(v) ?? []) {
    if (!imports.has(w)) continue
    if (!index.has(w)) {
      visit(w)
      low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0))
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0))
  }
  if (low.get(v) !== index.get(v)) return
  const cycle: string[] = []
  for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
    onStack.delete(w)
    cycle.push(relative(SRC, w))
  }
  if (cycle.length > 1) problems.push(`import cycle: ${cycle.reverse().join(' -> ')}`)
}
for (const file of imports.keys()) if (!index.has(file)) visit(file)

if (problems.length > 0) {
  process.stderr.write(`check-imports: ${problems.length} problem(s)\n${problems.join('\n')}\n`)
  process.exit(1)
}
process.stdout.write(`check-imports: ${files.length} files, imports point one way, no cycle\n`)
