/**
 * The processes of the hub bench, seen from outside: each bridge is `node main.js` of its own,
 * started with its environment, waited for over HTTP, and measured from /proc (CPU time and
 * RSS), never from inside. Self-contained: nothing here depends on the rest of bench/.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** USER_HZ: the unit of /proc/<pid>/stat times (100 on every Linux this runs on). */
const CLK_TCK = 100

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0)
      })
    })
  })
}

/** CPU seconds (user + system) so far and resident memory (MiB) of one process. */
export function cpuMem(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command may contain spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN')
  return { cpuSeconds: ticks / CLK_TCK, rssMiB: rssKiB / 1024 }
}

export interface Usage {
  /** Mean CPU over the window, in % of one core. */
  cpuPct: number
  /** Highest RSS sampled in the window, MiB. */
  peakRssMiB: number
}

/** The process's CPU and RSS while `during` runs (RSS sampled every 100 ms). */
export async function usageDuring(pid: number, during: () => Promise<void>): Promise<Usage> {
  const start = cpuMem(pid)
  const t0 = performance.now()
  let peak = start.rssMiB
  const timer = setInterval(() => {
    peak = Math.max(peak, cpuMem(pid).rssMiB)
  }, 100)
  try {
    await during()
  } finally {
    clearInterval(timer)
  }
  const end = cpuMem(pid)
  const seconds = (performance.now() - t0) / 1000
  return {
    cpuPct: ((end.cpuSeconds - start.cpuSeconds) / seconds) * 100,
    peakRssMiB: Math.max(peak, end.rssMiB),
  }
}

/** How busy the whole machine was between two readings of /proc/stat, in % of all cores. */
export function machineBusy(): () => number {
  const read = () => {
    const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .split(/\s+/)
      .slice(1)
      .map(Number)
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0)
    return { idle, total: cpu.reduce((a, b) => a + b, 0) }
  }
  const before = read()
  return () => {
    const after = read()
    const total = after.total - before.total
    return total === 0 ? 0 : (1 - (after.idle - before.idle) / total) * 100
  }
}

export interface Bridge {
  readonly name: string
  readonly pid: number
  readonly url: string
  stop(): Promise<void>
}

const children = new Set<ChildProcess>()

/** Kills every bridge still running (Ctrl-C, a failure). */
export function killAll(): void {
  for (const c of children) c.kill('SIGKILL')
  children.clear()
}

/** `node <main> ` with `env`, on 127.0.0.1:<port>, once `/health/live` answers. */
export async function startBridge(
  main: string,
  name: string,
  env: Record<string, string>
): Promise<Bridge> {
  const port = await freePort()
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOST: '127.0.0.1',
      PORT: String(port),
      BRIDGE_NAME: name,
      DOCKER: 'off',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  children.add(child)
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`)
    try {
      if ((await fetch(`${url}/health/live`)).ok) break
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${stderr}`)
    await sleep(50)
  }
  return {
    name,
    pid: child.pid ?? -1,
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      children.delete(child)
    },
  }
}

/** Compiles src/ into `outDir` (tsc still emits when a tree mid-edit has type errors). */
export function compileBridge(repoRoot: string, outDir: string): string {
  try {
    execFileSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        outDir,
      ],
      { cwd: repoRoot, stdio: 'ignore' }
    )
  } catch {
    // Emitted anyway; a broken build shows up as a bridge that does not start.
  }
  return join(outDir, 'main.js')
}
