/**
 * A private dockerd for tests that stop and start the engine: its own socket, data root, exec
 * root (so its own managed containerd), pidfile and config file, and its own network namespace.
 * The shared engine that other test files use is never touched. Needs root, `dockerd` and
 * `unshare` (util-linux).
 *
 * Which dockerd: TEST_DOCKERD (docker.ts), so each CI lane restarts its own engine version.
 * dockerd looks up containerd, and containerd its runc shim and runc, on PATH, so the directory
 * of TEST_DOCKERD goes first on the child's PATH: a lane's bin/ holds all of them.
 *
 * The network namespace is not optional: a dockerd started with `--bridge=none` deletes the
 * host's `docker0` interface at start-up (moby daemon_unix.go, removeDefaultBridgeInterface),
 * which breaks the shared engine's default network. In a namespace of its own there is no
 * `docker0` to delete and no iptables rule to touch; its socket is a file, reachable from here.
 *
 * By default that namespace is anonymous (`unshare --net`) and the engine touches no iptables.
 * Given `netns` (a namespace made with `ip netns add`, e.g. a "host" of test/helpers/netns.ts),
 * the engine runs there instead (`nsenter --net`, so it keeps this machine's mounts and
 * cgroups) and manages iptables as a real host's engine does: the rules live in that namespace
 * only, and its containers get the masquerading they need to reach other hosts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { execFile, execFileSync } from 'node:child_process'
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { networkInterfaces } from 'node:os'
import { delimiter, dirname, join } from 'node:path'

import { docker, pingSocket, TEST_DOCKERD, TEST_IMAGE } from './docker.js'

const CGROUP_PARENT = 'health-bridge-test'

export interface PrivateEngine {
  readonly socket: string
  /** Stops dockerd (SIGTERM, as a host shutdown or upgrade would) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts dockerd again with the same flags and waits for `_ping`. */
  start(): Promise<void>
  /** Loads an image of the shared engine into this one (`docker save | docker load`). */
  load(image: string): Promise<void>
  /**
   * Rewrites daemon.json and tells the running dockerd to reload it (SIGHUP), as an operator
   * would; only reloadable keys (e.g. `live-restore`) change at once, the rest at the next start.
   * Resolves once the signal is sent: wait for its effect (e.g. `docker info`) yourself.
   */
  reconfigure(config: Record<string, unknown>): void
  /** Stops it for good and removes its directories. */
  destroy(): Promise<void>
}

/** Why a private engine cannot run here, or null when it can. */
export async function privateEngineUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'a private dockerd needs root'
  for (const [cmd, arg] of [
    [TEST_DOCKERD, '--version'],
    ['unshare', '--version'],
  ] as const) {
    const ok = await new Promise<boolean>((resolve) => {
      execFile(cmd, [arg], (err) => {
        resolve(err === null)
      })
    })
    if (!ok) return `no working ${cmd} on PATH`
  }
  return null
}

export interface PrivateEngineOptions {
  /** An `ip netns` namespace to run in, with iptables (see the top); default: an anonymous one. */
  netns?: string
  /** daemon.json of this engine, e.g. `{ "live-restore": true }`; default: `{}`. */
  daemonConfig?: Record<string, unknown>
}

/**
 * Starts a private engine and loads the test image into it. `storageDriver` should be the shared
 * engine's (`docker info`), which is known to work on this machine.
 */
export async function startPrivateEngine(
  storageDriver: string,
  opts: PrivateEngineOptions = {}
): Promise<PrivateEngine> {
  // Short path: the managed containerd's socket lives under the exec root (108-byte limit).
  const dir = mkdtempSync('/tmp/hbd-')
  const socket = join(dir, 'docker.sock')
  const logFile = join(dir, 'dockerd.log')
  // Not /etc/docker/daemon.json: the shared engine's settings (hosts, bridge) are not ours.
  const configFile = join(dir, 'daemon.json')
  const writeConfig = (config: Record<string, unknown>) => {
    writeFileSync(configFile, `${JSON.stringify(config)}\n`)
  }
  writeConfig(opts.daemonConfig ?? {})
  // Both exec dockerd: the child's pid is dockerd's, so SIGTERM reaches the daemon.
  const enter =
    opts.netns === undefined
      ? { cmd: 'unshare', args: ['--net', '--'] }
      : { cmd: 'nsenter', args: [`--net=/run/netns/${opts.netns}`, '--'] }
  const iptables =
    opts.netns === undefined ? ['--iptables=false', '--ip-masq=false', '--ip-forward=false'] : []
  const args = [
    ...enter.args,
    TEST_DOCKERD,
    '--config-file',
    configFile,
    '-H',
    `unix://${socket}`,
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'docker.pid'),
    '--bridge=none',
    ...iptables,
    `--storage-driver=${storageDriver}`,
    `--cgroup-parent=${CGROUP_PARENT}`,
    '--shutdown-timeout=2',
    '--log-level=warn',
  ]
  let child: ChildProcess | null = null

  const start = async () => {
    const hadDocker0 = hasDocker0()
    const log = openSync(logFile, 'a')
    child = spawn(enter.cmd, args, { stdio: ['ignore', log, log], env: engineEnv() })
    closeSync(log)
    const deadline = Date.now() + 30_000
    while (!(await pingSocket(socket, 500))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop()
        throw new Error(`private dockerd did not come up: ${tail(logFile)}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    // The promise of this helper: the shared engine's docker0 is still there (see the top).
    if (hadDocker0 && !hasDocker0()) {
      await stop()
      throw new Error('the private dockerd removed the host’s docker0 interface')
    }
  }

  const stop = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise<void>((resolve) =>
      c.once('exit', () => {
        resolve()
      })
    )
    c.kill('SIGTERM')
    await exited
    child = null
  }

  try {
    await start()
    await loadImage(socket, TEST_IMAGE)
  } catch (err) {
    await stop()
    unmountUnder(dir)
    rmSync(dir, { recursive: true, force: true })
    throw err
  }

  return {
    socket,
    stop,
    start,
    load: (image) => loadImage(socket, image),
    reconfigure: (config) => {
      writeConfig(config)
      if (!child || child.exitCode !== null) return
      child.kill('SIGHUP')
    },
    destroy: async () => {
      // Remove its containers first, so shutdown does not wait for their stop timeouts.
      const ids = (await docker(['ps', '-aq'], { socket }).catch(() => ''))
        .split('\n')
        .filter(Boolean)
      if (ids.length > 0) await docker(['rm', '-f', ...ids], { socket }).catch(() => undefined)
      await stop()
      unmountUnder(dir)
      rmSync(dir, { recursive: true, force: true })
      removeCgroupParent()
    },
  }
}

/** The child's environment: PATH starts with TEST_DOCKERD's directory when it names a path. */
function engineEnv(): NodeJS.ProcessEnv {
  if (!TEST_DOCKERD.includes('/')) return process.env
  return { ...process.env, PATH: [dirname(TEST_DOCKERD), process.env['PATH']].join(delimiter) }
}

/** Best effort: the empty `health-bridge-test` cgroups the private engine's containers used. */
function removeCgroupParent(): void {
  const root = '/sys/fs/cgroup'
  const candidates = [join(root, CGROUP_PARENT)]
  try {
    for (const hierarchy of readdirSync(root)) candidates.push(join(root, hierarchy, CGROUP_PARENT))
  } catch {
    return
  }
  for (const path of candidates) {
    try {
      rmdirSync(path)
    } catch {
      // Absent, or still in use: either way not ours to force.
    }
  }
}

/**
 * Whether the host has the shared engine's default bridge. Only docker0 is checked: other tests'
 * compose networks (`br-*`) and veth pairs come and go meanwhile and prove nothing either way.
 */
function hasDocker0(): boolean {
  return 'docker0' in networkInterfaces()
}

/**
 * Best effort: mounts dockerd left under its own directory (a daemon that died mid-start can
 * leave its data root bind-mounted), which would make removing the directory fail with EBUSY.
 */
function unmountUnder(dir: string): void {
  let mounts: string[]
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((target) => target === dir || target.startsWith(`${dir}/`))
  } catch {
    return
  }
  // Deepest first, so a mount inside another goes before it.
  for (const target of mounts.sort((a, b) => b.length - a.length)) {
    try {
      execFileSync('umount', ['-l', target], { stdio: 'ignore' })
    } catch {
      // Already gone, or not ours to force.
    }
  }
}

function loadImage(socket: string, image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] })
    const load = spawn('docker', ['load', '-q'], {
      stdio: ['pipe', 'ignore', 'inherit'],
      env: { ...process.env, DOCKER_HOST: `unix://${socket}` },
    })
    save.stdout.pipe(load.stdin)
    load.on('exit', (code) => {
      if (code === 0) resolve()
      else reject(new Error(`loading ${image} into the private engine failed (${code})`))
    })
    load.on('error', reject)
    save.on('error', reject)
  })
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')
  } catch {
    return '(no log)'
  }
}
