/**
 * Real-engine plumbing for integration tests: is an engine there (skip with a printed reason, or
 * fail under REQUIRE_DOCKER=1 so CI can never skip silently), the docker CLI, unique compose
 * projects per test file, and cleanup. Test files read the environment through this module only.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'

/** Built offline by scripts/ci/build-test-images.sh: FROM scratch + static busybox. */
export const TEST_IMAGE = 'health-bridge-test/busybox:latest'

export const REQUIRE_DOCKER = process.env['REQUIRE_DOCKER'] === '1'

/** The CI lane the tests run in (`main`, `oldest`; scripts/ci/lane.sh), or null outside one. */
export const CI_DOCKER_LANE = process.env['CI_DOCKER_LANE'] || null

/** The engine the tests use: DOCKER_HOST when it names a unix socket, else the default socket. */
export const DOCKER_SOCKET = (() => {
  const host = process.env['DOCKER_HOST']
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock'
})()

/**
 * The dockerd a test's own private engine runs (docker-private-engine.ts): TEST_DOCKERD when set
 * (each CI lane names its own, scripts/ci/lane.sh), else `dockerd` on PATH.
 */
export const TEST_DOCKERD = process.env['TEST_DOCKERD'] || 'dockerd'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export type Availability = { ok: true; reason: null } | { ok: false; reason: string }

let probed: Promise<Availability> | undefined

/**
 * Whether the real-engine tests can run: the engine answers, the CLI works, the test image exists
 * (built on demand). Prints why when they cannot; throws instead under REQUIRE_DOCKER=1.
 */
export function dockerAvailable(): Promise<Availability> {
  probed ??= (async (): Promise<Availability> => {
    const reason = await whyUnavailable()
    if (reason === null) return { ok: true, reason: null }
    if (REQUIRE_DOCKER) throw new Error(`REQUIRE_DOCKER=1 but ${reason}`)
    process.stderr.write(`\n[docker tests skipped] ${reason}\n`)
    return { ok: false, reason }
  })()
  return probed
}

async function whyUnavailable(): Promise<string | null> {
  if (!(await pingSocket(DOCKER_SOCKET))) return `no Docker engine answers on ${DOCKER_SOCKET}`
  try {
    await docker(['version', '--format', '{{.Server.Version}}'])
  } catch (err) {
    return `the docker CLI does not work: ${(err as Error).message}`
  }
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE])
  } catch {
    try {
      await run('bash', [`${REPO_ROOT}scripts/ci/build-test-images.sh`], 180_000)
    } catch (err) {
      return `the test image ${TEST_IMAGE} is missing and could not be built: ${(err as Error).message}`
    }
  }
  return null
}

/** GET /_ping on a unix socket, bounded. */
export function pingSocket(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => {
      resolve(false)
    })
    req.end()
  })
}

function run(
  cmd: string,
  args: readonly string[],
  timeoutMs: number,
  env?: NodeJS.ProcessEnv
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: env ?? process.env },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`))
          return
        }
        resolve(stdout.trim())
      }
    )
  })
}

export interface DockerCliOptions {
  /** Another engine (a private dockerd): its unix socket path. */
  socket?: string
  timeoutMs?: number
  /** Extra environment, e.g. variables a compose file interpolates. */
  env?: Record<string, string>
}

/** Runs the docker CLI; resolves with its trimmed stdout, rejects with its stderr. */
export function docker(args: readonly string[], opts: DockerCliOptions = {}): Promise<string> {
  const env = { ...process.env, ...opts.env, DOCKER_HOST: `unix://${opts.socket ?? DOCKER_SOCKET}` }
  return run('docker', args, opts.timeoutMs ?? 60_000, env)
}

/** A compose project name no other test (or earlier run) uses. */
export function uniqueProject(prefix: string): string {
  return `hbt-${prefix}-${randomBytes(3).toString('hex')}`
}

/** `-l` arguments that make `docker run` containers look like compose's. */
export function composeLabels(project: string, service: string, number = 1): string[] {
  return [
    '-l',
    `com.docker.compose.project=${project}`,
    '-l',
    `com.docker.compose.service=${service}`,
    '-l',
    `com.docker.compose.container-number=${number}`,
    '-l',
    'com.docker.compose.oneoff=False',
  ]
}

/** Removes every container and network of a project (what `compose down` would, and strays). */
export async function removeProject(project: string, opts: DockerCliOptions = {}): Promise<void> {
  const filter = `label=com.docker.compose.project=${project}`
  const ids = (await docker(['ps', '-aq', '--filter', filter], opts)).split('\n').filter(Boolean)
  if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids], opts)
  const nets = (await docker(['network', 'ls', '-q', '--filter', filter], opts))
    .split('\n')
    .filter(Boolean)
  if (nets.length > 0) await docker(['network', 'rm', ...nets], opts)
}

/** Full id of a container by name. */
export function containerId(name: string, opts: DockerCliOptions = {}): Promise<string> {
  return docker(['inspect', '--format', '{{.Id}}', name], opts)
}
