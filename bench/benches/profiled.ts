/**
 * A profiled pass: the bridge under `node --cpu-prof`, the same population and the same
 * requests, then where its CPU time went during each load (start-up and population left out).
 * Runs for the figures that missed their target, or for all of them with --profile.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'

import { populate, startBridgeProcess, type InstanceRef } from '../lib/bridge.js'
import { runLoad, type LoadSpec } from '../lib/load.js'
import { BENCH_OUT } from '../lib/paths.js'
import { newestProfile, profileMarkdown, summarizeProfile } from '../lib/profile.js'
import type { BenchContext } from '../lib/report.js'

export interface ProfiledLoad {
  figure: string
  spec: LoadSpec
}

export async function profileLoads(
  ctx: BenchContext,
  what: {
    name: string
    layout: readonly InstanceRef[]
    loads: readonly ProfiledLoad[]
    env?: Record<string, string>
  }
): Promise<string | null> {
  if (what.loads.length === 0) return null
  const dir = join(BENCH_OUT, 'profiles', what.name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  ctx.log(`${what.name}: profiling ${what.loads.length} load(s) under node --cpu-prof`)
  const seconds = Math.max(3, ctx.seconds * 2)
  const spawnedAt = performance.now()
  const bridge = await startBridgeProcess({
    name: `bridge-${what.name}-profiled`,
    cpuProfDir: dir,
    env: what.env ?? {},
  })
  const windows: { fromMs: number; toMs: number }[] = []
  try {
    await populate(bridge.url, what.layout)
    for (const load of what.loads) {
      const from = performance.now() - spawnedAt
      await runLoad(bridge.url, load.spec, seconds)
      // A margin at the start leaves the connection set-up out.
      windows.push({ fromMs: from + 200, toMs: performance.now() - spawnedAt })
    }
  } finally {
    await bridge.stop(10_000)
  }
  const file = newestProfile(dir)
  if (file === null) return `(no profile was written into ${dir})`
  const parts = [
    `**CPU profiles** (\`node --cpu-prof\`, same population, ${seconds} s of each load; \`${file.slice(file.indexOf('bench/out'))}\`; open it in Chrome DevTools or speedscope for the flame graph).`,
  ]
  what.loads.forEach((load, i) => {
    const w = windows[i]
    if (!w) return
    parts.push('', `*${load.figure}*:`, '', profileMarkdown(summarizeProfile(file, w)))
  })
  return parts.join('\n')
}
