/**
 * CLP's single-host start, verbatim, on the real engine: a CLP-shaped package
 * (test/fixtures/clp/) with the bridge added by the lines of docs/deployment.md section 9 (CLP's
 * way: a definition in docker-compose-all.yaml and an `extends:` stub; and the alternative: the
 * snippet in docker-compose.yaml's include list), started from the package directory with
 * `docker compose --project-name clp-package-<uuid> --file docker-compose.yaml up --detach --wait`.
 * What a user and the WebUI see, over HTTP from the host.
 */
import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { buildImage, cleanUp, ensureNodeBaseImage, NODE_BASE_IMAGE } from '../helpers/compose.js'
import { dockerAvailable, REPO_ROOT } from '../helpers/docker.js'
import {
  BridgeReader,
  buildPackageImage,
  expectHealthyStack,
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
describe.skipIf(!engine.ok || notClp !== null)("CLP's single-host start", () => {
  const packages: ClpPackage[] = []

  beforeAll(async () => {
    await ensureNodeBaseImage()
    await buildImage(BRIDGE_IMAGE, REPO_ROOT, { NODE_IMAGE: NODE_BASE_IMAGE })
    await buildPackageImage(PACKAGE_IMAGE)
  }, 15 * 60_000)

  afterAll(async () => {
    for (const p of packages) await p.down().catch(() => undefined)
    await removeImage(PACKAGE_IMAGE)
    await cleanUp()
  }, 180_000)

  describe("the bridge added CLP's way (docker-compose-all.yaml + an extends: stub)", () => {
    let pkg: ClpPackage
    let bridge: BridgeReader

    beforeAll(async () => {
      pkg = await preparePackage({
        packageImage: PACKAGE_IMAGE,
        bridgeImage: BRIDGE_IMAGE,
        bridgeSettings: { LOG_LEVEL: 'debug' },
      })
      packages.push(pkg)
      bridge = new BridgeReader(`http://127.0.0.1:${pkg.bridgePort}`)
      // CLP's own command: it returns once every healthcheck passed and the jobs completed.
      await pkg.startLikeClp()
    }, 240_000)

    it("starts with CLP's command, and `up --wait` waited for the bridge too", async () => {
      expect(await pkg.inspect<string>('health-bridge', '.State.Health.Status')).toBe('healthy')
      // CLP's conventions held: the underscore hostname, the package's first-party user.
      expect(await pkg.inspect<string>('health-bridge', '.Config.Hostname')).toBe('health_bridge')
      expect(await pkg.inspect<string>('health-bridge', '.Config.User')).toMatch(/^1000:\d+$/)
      expect(await pkg.inspect<string>('health-bridge', '.HostConfig.RestartPolicy.Name')).toBe(
        'unless-stopped'
      )
    })

    it('reports every enabled service healthy, jobs as jobs, dependencies as in CLP', async () => {
      await expectHealthyStack(pkg, bridge)
    })

    it("never serves or logs the package's secrets", async () => {
      // They are there to leak: in the environment the bridge's engine API returns.
      const env = await pkg.inspect<string[]>('database', '.Config.Env')
      expect(env).toContain(`MYSQL_PASSWORD=${pkg.secrets.CLP_DB_PASS}`)
      await bridge.get('/health/history')
      await bridge.get('/metrics')
      await bridge.get('/')
      expect(secretsFound([...bridge.transcript, await pkg.bridgeLogs()], pkg.secrets)).toEqual([])
    })
  })

  describe("the alternative: the snippet in docker-compose.yaml's include list", () => {
    let pkg: ClpPackage
    let bridge: BridgeReader

    beforeAll(async () => {
      pkg = await preparePackage({
        packageImage: PACKAGE_IMAGE,
        bridgeImage: BRIDGE_IMAGE,
        bridgeSettings: {},
        bridgeVia: 'include',
      })
      packages.push(pkg)
      bridge = new BridgeReader(`http://127.0.0.1:${pkg.bridgePort}`)
      await pkg.startLikeClp()
    }, 240_000)

    it("reports the same: every enabled service healthy, jobs as jobs, CLP's dependencies", async () => {
      await expectHealthyStack(pkg, bridge)
      expect(secretsFound([...bridge.transcript, await pkg.bridgeLogs()], pkg.secrets)).toEqual([])
    })
  })

  it('leaves nothing behind', async () => {
    for (const p of packages.splice(0)) {
      await p.down()
      expect(await p.leftovers(), p.project).toEqual([])
    }
  }, 120_000)
})
