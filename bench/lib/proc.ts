/**
 * Servers under test run as child processes, so the load generator (this process) and the
 * server never share an event loop. This module starts them, waits until they answer, samples
 * their CPU and memory from /proc, and stops them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { BENCH_OUT } from './paths.js'

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we target). */
const CLK_TCK = 100

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      s.close(() => {
        resolve(port)
      })
    })
  })
}

export interface CpuMem {
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds: number
  /** Resident set size in MiB. */
  rssMiB: number
}

/** CPU time and RSS of one process, from /proc. */
export function cpuMem(pid: number): CpuMem {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN')
  return { cpuSeconds: (utime + stime) / CLK_TCK, rssMiB: rssKiB / 1024 }
}

export interface UsageWindow {
  /** Mean CPU over the window, in % of one core. */
  cpuPct: number
  /** Highest RSS sampled during the window, MiB. */
  peakRssMiB: number
  /** RSS at the end of the window, MiB. */
  endRssMiB: number
}

/** Samples a process's CPU and RSS while `during` runs. */
export async function measureUsage<T>(
  pid: number,
  during: () => Promise<T>,
  sampleEveryMs = 100
): Promise<{ result: T; usage: UsageWindow }> {
  const start = cpuMem(pid)
  const t0 = performance.now()
  let peak = start.rssMiB
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, cpuMem(pid).rssMiB)
    } catch {
      // The process ended; the caller will notice.
    }
  }, sampleEveryMs)
  try {
    const result = await during()
    const end = cpuMem(pid)
    const seconds = (performance.now() - t0) / 1000
    peak = Math.max(peak, end.rssMiB)
    return {
      result,
      usage: {
        cpuPct: ((end.cpuSeconds - start.cpuSeconds) / seconds) * 100,
        peakRssMiB: peak,
        endRssMiB: end.rssMiB,
      },
    }
  } finally {
    clearInterval(timer)
  }
}

export interface ChildServer {
  readonly name: string
  readonly pid: number
  readonly url: string
  readonly port: number
  readonly logFile: string
  readonly child: ChildProcess
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>
}

export interface SpawnOptions {
  name: string
  /** Arguments to `node` (flags, then the script). */
  nodeArgs: string[]
  env: Record<string, string>
  port: number
  /** Path polled until it answers (any HTTP status below 500 unless `readyStatus` is set). */
  readyPath?: string
  readyStatus?: number
  readyTimeoutMs?: number
  /** Open an IPC channel (child.send / process.send) for probes. */
  ipc?: boolean
}

let spawned = 0
const live = new Set<ChildProcess>()

/** Kills every child still running (used on Ctrl-C and on failure). */
export function killAllChildren(): void {
  for (const c of live) c.kill('SIGKILL')
  live.clear()
}

/** Starts `node <nodeArgs>` with its output in bench/out/logs, and waits until it answers HTTP. */
export async function spawnServer(opts: SpawnOptions): Promise<ChildServer> {
  const logs = join(BENCH_OUT, 'logs')
  mkdirSync(logs, { recursive: true })
  const logFile = join(logs, `${String(++spawned).padStart(2, '0')}-${opts.name}.log`)
  const log = createWriteStream(logFile)
  const child = spawn(process.execPath, opts.nodeArgs, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child)
      resolve()
    })
  })
  const url = `http://127.0.0.1:${opts.port}`
  const server: ChildServer = {
    name: opts.name,
    pid: child.pid ?? -1,
    url,
    port: opts.port,
    logFile,
    child,
    stop: async (graceMs = 3000) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(t)
    },
  }
  const deadline = performance.now() + (opts.readyTimeoutMs ?? 20_000)
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `${opts.name} exited with code ${child.exitCode} before it was ready; see ${logFile}`
      )
    }
    try {
      const res = await fetch(url + (opts.readyPath ?? '/'), { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (opts.readyStatus === undefined ? res.status < 500 : res.status === opts.readyStatus) break
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) {
      await server.stop()
      throw new Error(
        `${opts.name} was not ready within ${opts.readyTimeoutMs ?? 20_000} ms; see ${logFile}`
      )
    }
    await sleep(10)
  }
  return server
}
