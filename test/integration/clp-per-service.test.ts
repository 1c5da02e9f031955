/**
 * CLP's multi-host start, on one engine: CLP's multi-host guide starts each service on its host
 * with `docker compose --project-name clp-package-<id> up <service> --no-deps --wait`, from the
 * package directory. Compose then writes every container's `com.docker.compose.depends_on`
 * label empty, so nothing tells the bridge which services are init jobs or what depends on what;
 * the CLP profile (compose/profiles/clp.yaml, CONFIG_FILE in the image) does. The same package,
 * started service by service in CLP's order, must end in the same document as CLP's single-host
 * start; and a bridge without the profile, watching the same containers, shows the false alarm
 * the profile prevents.
 */
import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  buildImage,
  cleanUp,
  dockerGid,
  ensureNodeBaseImage,
  freePort,
  NODE_BASE_IMAGE,
} from '../helpers/compose.js'
import { docker, DOCKER_SOCKET, dockerAvailable, REPO_ROOT } from '../helpers/docker.js'
import {
  BridgeReader,
  buildPackageImage,
  expectHealthyStack,
  MULTI_HOST_ORDER,
  preparePackage,
  removeImage,
  secretsFound,
  whyNotClp,
  type ClpPackage,
} from '../fixtures/clp/stack.js'

const engine = await dockerAvailable()
const notClp = engine.ok ? await whyNotClp() : null
if (notClp !== null) process.stderr.write(`\n[clp tests skipped] ${notClp}\n`)

const tag = randomBytes(3).toString('hex')
const BRIDGE_IMAGE = `hbt-clp-bridge:${tag}`
const PACKAGE_IMAGE = `hbt-clp-package:${tag}`
const NO_PROFILE_BRIDGE = `hbt-clp-no-profile-${tag}`

describe.skipIf(!engine.ok || notClp !== null)("CLP's multi-host start, service by service", () => {
  let pkg: ClpPackage
  let bridge: BridgeReader

  beforeAll(async () => {
    await ensureNodeBaseImage()
    await buildImage(BRIDGE_IMAGE, REPO_ROOT, { NODE_IMAGE: NODE_BASE_IMAGE })
    await buildPackageImage(PACKAGE_IMAGE)
    pkg = await preparePackage({
      packageImage: PACKAGE_IMAGE,
      bridgeImage: BRIDGE_IMAGE,
      bridgeSettings: {},
    })
    bridge = new BridgeReader(`http://127.0.0.1:${pkg.bridgePort}`)
  }, 15 * 60_000)

  afterAll(async () => {
    await docker(['rm', '-f', NO_PROFILE_BRIDGE]).catch(() => undefined)
    await pkg.down().catch(() => undefined)
    await removeImage(PACKAGE_IMAGE)
    await cleanUp()
  }, 180_000)

  it('a host that runs only some services is healthy, not red for the others', async () => {
    // The bridge first, on "its host", then the database and the job that prepares it.
    for (const s of ['health-bridge', 'database', 'db-table-creator']) {
      await pkg.startServiceLikeClpMultiHost(s)
    }
    const { status, doc } = await bridge.waitForDoc(
      (d, code) => code === 200 && d.services.length === 2,
      'the database and its init job, and nothing else'
    )
    expect(status).toBe(200)
    expect(doc.status).toBe('healthy')
    expect(doc.services.map((s) => s.name)).toEqual(['database', 'db-table-creator'])
    expect(doc.services[1]).toMatchObject({
      kind: 'job',
      status: 'healthy',
      message: 'completed successfully',
      job: { state: 'succeeded', exitCode: 0 },
      dependsOn: ['database'],
    })
  }, 120_000)

  it("ends, in CLP's order, in the same document as the single-host start", async () => {
    for (const s of MULTI_HOST_ORDER.slice(2)) await pkg.startServiceLikeClpMultiHost(s)
    // The situation the profile exists for: Compose recorded no dependency at all.
    const labels = await pkg.dependsOnLabels()
    expect(Object.keys(labels).sort()).toContain('db-table-creator')
    for (const [service, label] of Object.entries(labels)) expect(label, service).toBe('')
    await expectHealthyStack(pkg, bridge)
  }, 180_000)

  it('without the profile the same containers raise the false alarm: a job that "exited"', async () => {
    // A second bridge, from the same image, watching the same project, with no CONFIG_FILE.
    const port = await freePort()
    await docker([
      'run',
      '-d',
      '--name',
      NO_PROFILE_BRIDGE,
      '--user',
      `1000:${dockerGid()}`,
      '-v',
      `${DOCKER_SOCKET}:/var/run/docker.sock:ro`,
      '-e',
      `COMPOSE_PROJECT_NAME=${pkg.project}`,
      '-e',
      'DOCKER=on',
      '-p',
      `127.0.0.1:${port}:8080`,
      BRIDGE_IMAGE,
    ])
    const blind = new BridgeReader(`http://127.0.0.1:${port}`)
    const { status, doc } = await blind.waitForDoc(
      (d) => d.bridge.sources.docker.state === 'following' && d.services.length > 0,
      'the profile-less bridge to follow the project'
    )
    const byName = new Map(doc.services.map((s) => [s.name, s]))
    for (const job of ['db-table-creator', 'results-cache-indices-creator']) {
      expect(byName.get(job), job).toMatchObject({
        kind: 'service',
        status: 'unhealthy',
        message: 'exited with code 0',
      })
    }
    expect(byName.get('reducer')?.dependsOn).toEqual([])
    expect(status).toBe(503)
    // ...while the bridge with the profile, on the same containers, says all is well.
    expect((await bridge.health()).status).toBe(200)
    expect(secretsFound([...bridge.transcript, ...blind.transcript], pkg.secrets)).toEqual([])
    expect(secretsFound([await pkg.bridgeLogs()], pkg.secrets)).toEqual([])
  }, 60_000)

  it('leaves nothing behind', async () => {
    await docker(['rm', '-f', NO_PROFILE_BRIDGE])
    await pkg.down()
    expect(await pkg.leftovers()).toEqual([])
  }, 120_000)
})
