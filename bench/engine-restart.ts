/**
 * `npm run bench:engine-restart [-- --runs 3]` (root, a Docker engine, `ip netns`): how long a
 * deployed bridge stays blind when dockerd restarts under it, with live-restore off and on.
 *
 * For each mode a fresh private engine runs the compose project of test/helpers/deployed-stack.ts
 * (the bridge from compose/health-bridge.yaml with its defaults, an init job, a service with a
 * healthcheck and one without); dockerd is restarted `--runs` times (SIGTERM, then start), and
 * GET /health is polled every 100 ms from outside, over the published port. Per restart, from the
 * moment the engine answers `_ping` again: until the bridge follows it again, until every status
 * is right; over the whole restart: how long the answers showed anything `unknown`, how long
 * nothing answered, and how many 200s showed something unknown (must be 0).
 *
 * The engine is TEST_DOCKERD (scripts/ci/lane.sh sets it per lane). Prints a Markdown table for
 * docs/reliability.md ("Engine restarts"); writes nothing.
 */
import { cpus, loadavg } from 'node:os'

import {
  buildImage,
  cleanUp,
  ensureNodeBaseImage,
  NODE_BASE_IMAGE,
  tempDir,
} from '../test/helpers/compose.js'
import {
  deployStack,
  restartEngine,
  type DeployedStack,
  type RestartFigures,
} from '../test/helpers/deployed-stack.js'
import { docker, dockerAvailable, REPO_ROOT, uniqueProject } from '../test/helpers/docker.js'
import { privateEngineUnavailable } from '../test/helpers/docker-private-engine.js'
import { netnsUnavailable } from '../test/helpers/netns.js'

/** The target: with live-restore, every status right within this of the engine's return. */
const TARGET_MS = 30_000

function log(message: string): void {
  process.stderr.write(`[engine-restart ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

function parseRuns(argv: readonly string[]): number {
  const i = argv.indexOf('--runs')
  const runs = i === -1 ? 3 : Number(argv[i + 1])
  if (!Number.isInteger(runs) || runs < 1) throw new Error('usage: engine-restart [--runs N]')
  return runs
}

const s = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(1)} s`)

async function main(): Promise<void> {
  const runs = parseRuns(process.argv.slice(2))
  const engine = await dockerAvailable()
  const reason = engine.ok
    ? ((await privateEngineUnavailable()) ?? (await netnsUnavailable()))
    : engine.reason
  if (reason !== null) {
    log(`skipped: ${reason}`)
    return
  }
  const project = uniqueProject('bench-restart')
  const image = `hbt-bench-restart:${project.slice(-6)}`
  await ensureNodeBaseImage()
  await buildImage(image, REPO_ROOT, { NODE_IMAGE: NODE_BASE_IMAGE })
  const rows: string[][] = []
  let version = ''
  let worstOn = 0
  try {
    for (const liveRestore of [false, true]) {
      const mode = liveRestore ? 'on' : 'off'
      let stack: DeployedStack | undefined
      try {
        stack = await deployStack({
          project,
          image,
          nodeImage: NODE_BASE_IMAGE,
          dir: tempDir('hbt-bench-restart'),
          liveRestore,
        })
        version = await docker(['version', '--format', '{{.Server.Version}}'], {
          socket: stack.engine.socket,
        })
        for (let run = 1; run <= runs; run++) {
          const f: RestartFigures = await restartEngine(stack, 180_000)
          log(`live-restore ${mode}, run ${run}: ${JSON.stringify(f)}`)
          if (liveRestore) worstOn = Math.max(worstOn, f.rightMs)
          rows.push([
            mode,
            String(run),
            s(f.engineDownMs),
            s(f.followingMs),
            s(f.rightMs),
            s(f.unknownMs),
            s(f.silentMs),
            String(f.okWhileUnknown),
          ])
        }
      } finally {
        await stack?.destroy()
      }
    }
  } finally {
    await cleanUp()
  }
  const header = [
    'live-restore',
    'run',
    'engine down',
    'back → following',
    'back → every status right',
    'unknown shown',
    'no answer',
    '200 while unknown',
  ]
  const md = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`)
  process.stdout.write(
    `Engine ${version}, ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${new Date().toISOString().slice(0, 10)}\n\n` +
      `${md.join('\n')}\n\n` +
      `live-restore on, worst back → every status right: ${s(worstOn)} ` +
      `(target < ${s(TARGET_MS)}: ${worstOn < TARGET_MS ? 'met' : 'MISSED'})\n`
  )
  if (worstOn >= TARGET_MS) process.exitCode = 1
}

void main().catch((err: unknown) => {
  log(`failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
})
