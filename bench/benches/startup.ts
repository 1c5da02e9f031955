/**
 * 6 (start-up). Time from `node main.js` to a ready bridge (GET /health/ready answers 200) and
 * to a document that lists every container, with 100 containers in the watched project.
 */
import { setTimeout as sleep } from 'node:timers/promises'

import { getHealth, startBridgeProcess } from '../lib/bridge.js'
import { Project, TEST_IMAGE, dockerUnavailable, projectName } from '../lib/docker.js'
import { cpuMem } from '../lib/proc.js'
import { fmt, mdTable, verdictOf, type BenchContext, type BenchReport } from '../lib/report.js'
import { median } from '../lib/stats.js'

const CONTAINERS = 100
const TARGET_MS = 1500

function composeFile(): string {
  // Created, not started: the bridge's start-up work (one list, one inspect per container) is the
  // same for a stopped container, and creating 100 takes seconds where starting them takes minutes
  // on a busy 2-core machine.
  return `services:
  idle:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    network_mode: none
    deploy:
      replicas: ${CONTAINERS}
`
}

export async function startupBench(ctx: BenchContext): Promise<BenchReport> {
  const t0 = performance.now()
  const why = await dockerUnavailable()
  if (why !== null)
    return {
      id: 'startup',
      title: 'Start-up with 100 containers',
      rows: [],
      details: '',
      skipped: why,
      seconds: 0,
    }
  const project = new Project(projectName('startup'), composeFile())
  try {
    ctx.log(`startup: creating ${CONTAINERS} containers (${project.name})`)
    await project.compose(['create'])
    const reps = ctx.quick ? 2 : 5
    const live: number[] = []
    const ready: number[] = []
    const listed: number[] = []
    const rss: number[] = []
    for (let i = 0; i < reps; i++) {
      const spawned = performance.now()
      const bridge = await startBridgeProcess({
        name: `bridge-startup-${i}`,
        env: {
          DOCKER: 'on',
          COMPOSE_PROJECT_NAME: project.name,
          DOCKER_HOST: 'unix:///var/run/docker.sock',
        },
        readyTimeoutMs: 30_000,
      })
      live.push(performance.now() - spawned)
      try {
        while (
          (await fetch(`${bridge.url}/health/ready`).then(
            async (r) => (await r.arrayBuffer(), r.status)
          )) !== 200
        ) {
          if (performance.now() - spawned > 30_000) throw new Error('not ready within 30 s')
          await sleep(5)
        }
        ready.push(performance.now() - spawned)
        let count = 0
        for (;;) {
          const doc = JSON.parse((await getHealth(bridge.url)).body) as {
            services: { instances: unknown[] }[]
          }
          count = doc.services.reduce((a, s) => a + s.instances.length, 0)
          if (count >= CONTAINERS || performance.now() - spawned > 30_000) break
        }
        listed.push(performance.now() - spawned)
        rss.push(cpuMem(bridge.pid).rssMiB)
      } finally {
        await bridge.stop()
      }
    }
    const p50 = median(ready)
    return {
      id: 'startup',
      title: 'Start-up with 100 containers',
      rows: [
        {
          figure: `start-up to ready, ${CONTAINERS} containers (median of ${reps})`,
          value: fmt.ms(p50),
          target: `< ${fmt.ms(TARGET_MS)}`,
          verdict: verdictOf(p50 < TARGET_MS),
        },
      ],
      details: [
        `A compose project of ${CONTAINERS} containers (busybox, created and not started, no network); the bridge (\`node bench/out/dist/main.js\`, DOCKER=on, COMPOSE_PROJECT_NAME set) is started ${reps} times; the clock runs from spawning the process to GET /health/live answering (the process serves), to GET /health/ready answering 200 (polled every 5 ms), and to GET /health listing all ${CONTAINERS} instances. Node's own start-up is included, as a user waits for it too.`,
        '',
        mdTable(
          [
            'run',
            'serving (/health/live) after',
            'ready after',
            'all containers listed after',
            'RSS when ready',
          ],
          ready.map((r, i) => [
            String(i + 1),
            fmt.ms(live[i] ?? Number.NaN),
            fmt.ms(r),
            fmt.ms(listed[i] ?? Number.NaN),
            fmt.mib(rss[i] ?? Number.NaN),
          ])
        ),
      ].join('\n'),
      seconds: (performance.now() - t0) / 1000,
    }
  } finally {
    await project.down()
  }
}
