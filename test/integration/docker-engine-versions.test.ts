/**
 * What the README's "Supported versions" states, asserted on the engine the tests run on: each
 * CI lane (scripts/ci/lane.sh names it in CI_DOCKER_LANE) really is the Engine, API, containerd
 * and Compose it claims, the bridge's own client settles on that API version, a test's own
 * private engine is the lane's dockerd too, and a compose healthcheck's `start_interval` (CLP's
 * healthchecks use it) is honoured on the main lane and refused by Compose on the oldest, as the
 * README says.
 *
 * Under REQUIRE_DOCKER=1 or CI=true with no lane named, the engine must be the main lane's: that
 * is what `npm test` in `.ci/run` runs on. Otherwise, with no lane named (a developer's own
 * engine), nothing is asserted and the reason is printed.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { DockerodeApi } from '../../src/sources/docker/docker-api.js'

import {
  CI_DOCKER_LANE,
  docker,
  DOCKER_SOCKET,
  dockerAvailable,
  removeProject,
  REQUIRE_DOCKER,
  TEST_DOCKERD,
  TEST_IMAGE,
  uniqueProject,
} from '../helpers/docker.js'
import { waitFor } from '../helpers/wait-for.js'

interface Lane {
  engine: string
  api: string
  containerd: string
  compose: string
  /** The minimums CLP documents, which the main lane must meet. */
  atLeast?: { engine: string; api: string; compose: string }
}

/** Keep in step with README.md "Supported versions" and scripts/ci/lib-lanes.sh. */
const LANES: Record<string, Lane> = {
  main: {
    engine: '28.5',
    api: '1.51',
    containerd: '2.1',
    compose: '2.40',
    // CLP: docker-ce >= 27.0.3 (API 1.47), docker-compose-plugin >= 2.28.1.
    atLeast: { engine: '27.0.3', api: '1.47', compose: '2.28.1' },
  },
  oldest: { engine: '20.10', api: '1.41', containerd: '1.6', compose: '2.26' },
}

interface EngineVersion {
  Version: string
  ApiVersion: string
  MinAPIVersion: string
  Components?: { Name: string; Version: string }[]
}

/** GET /version on the engine's socket, unversioned: what any client sees before negotiating. */
function engineVersion(): Promise<EngineVersion> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: DOCKER_SOCKET, path: '/version', timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as EngineVersion)
        } catch (err) {
          reject(
            new Error(`GET /version answered ${res.statusCode ?? '?'}: ${body}`, { cause: err })
          )
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error('GET /version timed out')))
    req.on('error', reject)
    req.end()
  })
}

/** "28.5.2+dfsg4", "2.40.3-3", "v2.26.1", "1.51" -> [28, 5, 2], [2, 40, 3], [2, 26, 1], [1, 51]. */
function numbers(version: string): number[] {
  const m = /^v?(\d+(?:\.\d+)*)/.exec(version)
  if (!m?.[1]) throw new Error(`not a version: ${version}`)
  return m[1].split('.').map(Number)
}

function atLeast(version: string, min: string): boolean {
  const a = numbers(version)
  const b = numbers(min)
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d > 0
  }
  return true
}

/** "2.40.3-3" is "2.40": the same major.minor. */
function isSeries(version: string, series: string): boolean {
  return numbers(version).slice(0, 2).join('.') === series
}

const available = await dockerAvailable()
const version = available.ok ? await engineVersion() : null

/**
 * The lane to assert: the one scripts/ci/lane.sh names; under REQUIRE_DOCKER=1 or CI=true the
 * main lane (what `.ci/run` runs `npm test` on); else none, and this file is skipped.
 */
const laneName = CI_DOCKER_LANE ?? (REQUIRE_DOCKER || process.env['CI'] === 'true' ? 'main' : null)
const lane = laneName === null ? undefined : LANES[laneName]
if (laneName !== null && lane === undefined) {
  throw new Error(`CI_DOCKER_LANE=${laneName} is not a lane (${Object.keys(LANES).join(', ')})`)
}
if (available.ok && !lane) {
  process.stderr.write(
    `\n[engine-versions test skipped] no CI lane named: Engine ${version?.Version ?? '?'} ` +
      `(API ${version?.ApiVersion ?? '?'}) is not asserted; run the tests through ` +
      `scripts/ci/lane.sh main|oldest run ..., or with REQUIRE_DOCKER=1 for the main lane\n`
  )
}
/** Appended to failures: the usual cause is running outside the lane's environment. */
const HINT = `(lane ${laneName ?? '?'}; scripts/ci/lane.sh ${laneName ?? 'main'} run ... sets PATH, DOCKER_CONFIG, DOCKER_HOST and TEST_DOCKERD for it)`

/** A one-service compose project whose healthcheck has start_interval (as CLP's have). */
function startIntervalProject(): { project: string; file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hbt-start-interval-'))
  const file = join(dir, 'compose.yaml')
  // interval 1h: without start_interval the first probe would come an hour after the start, so
  // "healthy within seconds" can only come from start_interval's probes in the start period.
  writeFileSync(
    file,
    [
      'services:',
      '  probe:',
      `    image: ${TEST_IMAGE}`,
      '    pull_policy: never',
      "    command: ['sleep', '100000']",
      '    stop_grace_period: 1s',
      '    healthcheck:',
      "      test: ['CMD', 'true']",
      '      interval: 1h',
      '      start_period: 1m',
      '      start_interval: 1s',
      '',
    ].join('\n')
  )
  return { project: uniqueProject('start-interval'), file, dir }
}

describe.skipIf(!available.ok || !lane)(`the ${laneName ?? '?'} lane's versions`, () => {
  const l = lane as Lane
  const v = version as EngineVersion
  let si: { project: string; file: string; dir: string }

  beforeAll(() => {
    si = startIntervalProject()
  })

  afterAll(async () => {
    await removeProject(si.project)
    rmSync(si.dir, { recursive: true, force: true })
  })

  it(`is Engine ${l.engine} with API ${l.api} and containerd ${l.containerd}`, () => {
    const containerd = v.Components?.find((c) => c.Name === 'containerd')?.Version ?? '(none)'
    expect({ engine: v.Version, api: v.ApiVersion, containerd }, HINT).toEqual({
      engine: expect.stringMatching(new RegExp(`^${l.engine.replace('.', '\\.')}\\.`)) as string,
      api: l.api,
      containerd: expect.stringMatching(
        new RegExp(`^v?${l.containerd.replace('.', '\\.')}\\.`)
      ) as string,
    })
    if (l.atLeast) {
      expect(atLeast(v.Version, l.atLeast.engine), `Engine ${v.Version} ${HINT}`).toBe(true)
      expect(atLeast(v.ApiVersion, l.atLeast.api), `API ${v.ApiVersion} ${HINT}`).toBe(true)
    }
  })

  it(`is spoken to by the bridge at API ${l.api}: its client negotiates the engine's newest`, async () => {
    const api = new DockerodeApi({ dockerHost: `unix://${DOCKER_SOCKET}` })
    const info = await api.negotiate(AbortSignal.timeout(5000))
    expect(info, HINT).toEqual({ version: v.Version, apiVersion: l.api })
  })

  it(`runs Compose ${l.compose} as the docker CLI's compose plugin`, async () => {
    const compose = await docker(['compose', 'version', '--short'])
    expect(isSeries(compose, l.compose), `docker compose ${compose} ${HINT}`).toBe(true)
    if (l.atLeast)
      expect(atLeast(compose, l.atLeast.compose), `Compose ${compose} ${HINT}`).toBe(true)
  })

  it(`starts a test's own private engine with dockerd ${l.engine} (${TEST_DOCKERD})`, async () => {
    const { stdout } = await promisify(execFile)(TEST_DOCKERD, ['--version'])
    expect(stdout.trim(), HINT).toMatch(
      new RegExp(`^Docker version ${l.engine.replace('.', '\\.')}\\.`)
    )
  })

  if (l.atLeast) {
    it('honours a compose healthcheck start_interval (Config.Healthcheck.StartInterval)', async () => {
      await docker(['compose', '-p', si.project, '-f', si.file, 'up', '-d'], { timeoutMs: 60_000 })
      const id = await docker(['compose', '-p', si.project, '-f', si.file, 'ps', '-q', 'probe'])
      const hc = JSON.parse(
        await docker(['inspect', '--format', '{{json .Config.Healthcheck}}', id])
      ) as { StartInterval?: number; Interval?: number; StartPeriod?: number }
      expect(hc).toMatchObject({ StartInterval: 1e9, Interval: 3600e9, StartPeriod: 60e9 })
      await waitFor(
        async () =>
          (await docker(['inspect', '--format', '{{.State.Health.Status}}', id])) === 'healthy',
        { timeoutMs: 15_000, intervalMs: 200, what: 'the first start_interval probe to pass' }
      )
    })
  } else {
    it('refuses a compose healthcheck start_interval: it needs Engine >= 25', async () => {
      await expect(
        docker(['compose', '-p', si.project, '-f', si.file, 'up', '-d'], { timeoutMs: 60_000 })
      ).rejects.toThrow(/start_interval.*Engine v25/)
    })
  }
})
