/**
 * Servers under test run as child processes, so no load generator or observer shares their
 * event loop. This starts them, waits until they answer, reads their CPU and memory from /proc
 * (the process's own accounting, taken from outside it), and stops them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { freePort } from '../../test/helpers/compose.js'
import { REPO_ROOT } from '../../test/helpers/docker.js'

export { freePort, REPO_ROOT }
export const BENCH_OUT = join(REPO_ROOT, 'bench', 'out')
/** What `npm start` runs, compiled by the runner with `npm run build`. */
export const BRIDGE_MAIN = join(REPO_ROOT, 'dist', 'main.js')

/** USER_HZ: the unit of /proc/<pid>/stat times on every Linux we target. */
const CLK_TCK = 100

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / CLK_TCK
}

/** Milliseconds the main thread has waited for a CPU while runnable (the machine's share of a delay). */
export function runQueueMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN') / 1024
}

export interface ChildServer {
  readonly name: string
  readonly pid: number
  readonly url: string
  readonly child: ChildProcess
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>
}

export interface SpawnOptions {
  name: string
  /** Arguments to `node`: flags, then the script. */
  args: string[]
  env: Record<string, string>
  port: number
  /** Polled until it answers 200. */
  readyPath?: string
}

const live = new Set<ChildProcess>()

/** Kills every child still running (Ctrl-C, a failed bench). */
export function killAllChildren(): void {
  for (const c of live) c.kill('SIGKILL')
  live.clear()
}

let spawned = 0

/** `node <args>` with its output in bench/out/logs. */
export function spawnNode(
  name: string,
  args: string[],
  env: Record<string, string>,
  ipc = false
): Omit<ChildServer, 'url'> {
  const logs = join(BENCH_OUT, 'logs')
  mkdirSync(logs, { recursive: true })
  const logFile = join(logs, `${String(++spawned).padStart(2, '0')}-${name}.log`)
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  const log = createWriteStream(logFile)
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve()
    })
  })
  void exited.then(() => live.delete(child))
  return {
    name,
    pid: child.pid ?? -1,
    child,
    stop: async (graceMs = 3000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
        await exited
        clearTimeout(t)
      }
    },
  }
}

/** A child that serves HTTP, once `readyPath` answers 200. */
export async function spawnServer(opts: SpawnOptions): Promise<ChildServer> {
  const url = `http://127.0.0.1:${opts.port}`
  const server = { ...spawnNode(opts.name, opts.args, opts.env), url }
  const { child } = server
  const deadline = performance.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${opts.name} exited early; see bench/out/logs`)
    try {
      const res = await fetch(url + (opts.readyPath ?? '/'), { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.status === 200) return server
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) {
      await server.stop()
      throw new Error(`${opts.name} was not ready within 30 s; see bench/out/logs`)
    }
    await sleep(10)
  }
}

/** Environment of a heartbeat-only bridge: no engine, statuses that do not expire mid-run. */
export const HEARTBEAT_ONLY: Readonly<Record<string, string>> = {
  DOCKER: 'off',
  HEARTBEAT_TIMEOUT: '1h',
  MAX_INSTANCES: '100000',
}

/** The bridge as `npm start` runs it, configured only through its environment. */
export async function startBridge(
  name: string,
  env: Record<string, string> = {},
  nodeFlags: string[] = []
): Promise<ChildServer> {
  const port = await freePort()
  return spawnServer({
    name,
    args: [...nodeFlags, BRIDGE_MAIN],
    env: { ...HEARTBEAT_ONLY, ...env, HOST: '127.0.0.1', PORT: String(port) },
    port,
    readyPath: env.DOCKER === 'on' ? '/health/ready' : '/health/live',
  })
}
