/**
 * How much the properties run. In `npm test` (CI): a fixed seed and a bounded number of runs,
 * so a failure is reproducible and the whole fuzz project stays well under 30 s. With
 * `npm run fuzz`: FUZZ_SCALE (default 50) times as many runs, from a fresh seed each time unless
 * FUZZ_SEED is given. fast-check prints the seed and path of any counterexample; re-run it with
 * `FUZZ_SEED=<seed> npm run fuzz`.
 */
import type { Parameters } from 'fast-check'

const FIXED_SEED = 20_261_121

const scale = Number(process.env.FUZZ_SCALE ?? '1')
const seed =
  process.env.FUZZ_SEED !== undefined
    ? Number(process.env.FUZZ_SEED)
    : process.env.FUZZ_SCALE !== undefined
      ? Math.floor(Math.random() * 2 ** 31)
      : FIXED_SEED

if (process.env.FUZZ_SCALE !== undefined) {
  process.stdout.write(`fuzz: seed ${seed}, ${scale}x the CI runs\n`)
}

/** fast-check parameters for a property that runs `ciRuns` times in CI. */
export function fuzzParams<T>(ciRuns: number): Parameters<T> {
  return { seed, numRuns: Math.max(1, Math.round(ciRuns * scale)) }
}
