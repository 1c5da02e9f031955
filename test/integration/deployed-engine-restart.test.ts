/**
 * dockerd restarted under a deployed bridge, as a user lives it: the bridge runs in the engine
 * it watches, from compose/health-bridge.yaml (socket file bind-mounted, `restart:
 * unless-stopped`, the snippet's defaults), and is polled from outside over its published port
 * (test/helpers/deployed-stack.ts). The engine is a private one, restarted without and then with
 * live-restore.
 *
 * Without live-restore the engine stops every container and starts those with a restart policy
 * again, the bridge included, which then mounts the new socket. With live-restore the containers
 * keep running and the bridge's mount pins the old socket's inode; the bridge must notice that
 * the socket was removed and exit at once, so the restart policy starts it again on the new
 * socket, instead of staying blind until DOCKER_GIVE_UP_AFTER (2 min). Either way: once the
 * engine is back, the bridge follows it again and every status is right, and while anything was
 * unknown the bridge never answered 200.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  buildImage,
  cleanUp,
  ensureNodeBaseImage,
  NODE_BASE_IMAGE,
  tempDir,
} from '../helpers/compose.js'
import {
  docker,
  dockerAvailable,
  REPO_ROOT,
  REQUIRE_DOCKER,
  uniqueProject,
} from '../helpers/docker.js'
import { deployStack, restartEngine, type DeployedStack } from '../helpers/deployed-stack.js'
import { privateEngineUnavailable } from '../helpers/docker-private-engine.js'
import { netnsUnavailable } from '../helpers/netns.js'

const engine = await dockerAvailable()
const reason = engine.ok
  ? ((await privateEngineUnavailable()) ?? (await netnsUnavailable()))
  : engine.reason
if (engine.ok && reason !== null) {
  if (REQUIRE_DOCKER) throw new Error(`REQUIRE_DOCKER=1 but ${reason}`)
  process.stderr.write(`\n[deployed engine-restart test skipped] ${reason}\n`)
}

const project = uniqueProject('deployed-restart')
/** This checkout's Dockerfile: a cache hit after scripts/ci/build-bridge-image.sh. */
const IMAGE = `hbt-deployed-bridge:${project.slice(-6)}`
let stack: DeployedStack
/** What src/main.ts logs when the Docker source gives up, with the reason beside it. */
const GAVE_UP = 'giving up on the docker engine; exiting so the restart policy re-mounts the socket'

/** When the long-running services' containers last started: live-restore keeps them running. */
async function startedAt(): Promise<string> {
  const ids = (await stack.compose(['ps', '--quiet', 'web', 'worker'])).split('\n')
  return docker(['inspect', '--format', '{{.Name}} {{.State.StartedAt}}', ...ids], {
    socket: stack.engine.socket,
  })
}

describe.skipIf(!engine.ok || reason !== null)('dockerd restarted under a deployed bridge', () => {
  beforeAll(async () => {
    await ensureNodeBaseImage()
    await buildImage(IMAGE, REPO_ROOT, { NODE_IMAGE: NODE_BASE_IMAGE })
    stack = await deployStack({
      project,
      image: IMAGE,
      nodeImage: NODE_BASE_IMAGE,
      dir: tempDir('hbt-deployed-restart'),
      liveRestore: false,
    })
  }, 300_000)

  afterAll(async () => {
    await (stack as DeployedStack | undefined)?.destroy()
    await cleanUp()
  }, 120_000)

  it('without live-restore: the engine restarts the bridge with the stack, and every status is right again', async () => {
    const before = await stack.bridgeContainer()
    const figures = await restartEngine(stack)
    expect(figures.okWhileUnknown).toBe(0)
    const after = await stack.bridgeContainer()
    // The same container, started again by the engine (not recreated by anyone).
    expect(after.id).toBe(before.id)
    expect(after.running).toBe(true)
  }, 90_000)

  it('with live-restore: the bridge exits at once on the removed socket, is restarted by its policy, and every status is right again', async () => {
    await stack.setLiveRestore(true)
    const before = await stack.bridgeContainer()
    const servicesBefore = await startedAt()
    const figures = await restartEngine(stack)
    expect(figures.okWhileUnknown).toBe(0)
    // The stack kept running through the restart: live-restore really was on.
    expect(await startedAt()).toBe(servicesBefore)
    const after = await stack.bridgeContainer()
    // The same container, started again by the engine when it restored the stack (which does
    // not count as a policy restart: RestartCount stays as it was).
    expect(after.id).toBe(before.id)
    expect(after.running).toBe(true)
    // Why it exited: the socket it mounted was removed. The engine found it exited when it
    // restored the stack, before it answered again (it records that moment, and exit code 255:
    // the real code is lost), which DOCKER_GIVE_UP_AFTER (2 min) could not have made happen ...
    expect(after.finishedAt).toBeGreaterThanOrEqual(figures.stoppedAt)
    expect(after.finishedAt).toBeLessThanOrEqual(figures.backAt)
    // ... and where its last words reached the log (they are written while no engine reads
    // them: Engine 28.5 keeps them, 20.10 loses them), they say so.
    const log = await stack.bridgeLog()
    for (const line of log.filter((l) => l['msg'] === GAVE_UP)) {
      expect(line['reason']).toMatch(/^the Docker socket this bridge mounted .* was removed/)
    }
  }, 90_000)
})
