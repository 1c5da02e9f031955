/** Where the benchmark reads and writes, relative to the repository root. */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Scratch output (gitignored): the compiled bridge, logs, profiles, raw results. */
export const BENCH_OUT = join(REPO_ROOT, 'bench', 'out')
/** The bridge as shipped, compiled from src/ by the runner (not the shared dist/). */
export const BRIDGE_DIST = join(BENCH_OUT, 'dist')
export const BRIDGE_MAIN = join(BRIDGE_DIST, 'main.js')
export const SERVERS_DIR = join(REPO_ROOT, 'bench', 'servers')
export const DOC_PATH = join(REPO_ROOT, 'docs', 'benchmarks.md')
