/**
 * Facts about the machine a run happened on, and how busy it was with other work: figures from
 * a noisy machine are only comparable with this context.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { request } from 'node:http'
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

import { REPO_ROOT } from './paths.js'

export interface MachineFacts {
  cpus: number
  cpuModel: string
  memGiB: number
  kernel: string
  node: string
  engine: string | null
  compose: string | null
  commit: string
}

const DOCKER_SOCKET = '/var/run/docker.sock'

/** `GET path` on the Docker socket; null when there is no engine. */
export async function dockerGet(path: string, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request({ socketPath: DOCKER_SOCKET, path, timeout: timeoutMs }, (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (data += c))
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(data) as unknown) : null)
        } catch {
          resolve(null)
        }
      })
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => {
      resolve(null)
    })
    req.end()
  })
}

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return null
  }
}

export async function machineFacts(): Promise<MachineFacts> {
  const version = (await dockerGet('/version')) as { Version?: string; ApiVersion?: string } | null
  const dirty = (run('git', ['status', '--porcelain', '--untracked-files=no']) ?? '') !== ''
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    engine: version?.Version
      ? `Docker Engine ${version.Version} (API ${version.ApiVersion ?? '?'})`
      : null,
    compose: run('docker', ['compose', 'version', '--short']),
    commit: `${run('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown'}${dirty ? ' + uncommitted changes' : ''}`,
  }
}

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  const total = v.reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

function processTimes(): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(Number(entry), { comm, ticks: Number(f[11]) + Number(f[12]) })
    } catch {
      // Gone meanwhile.
    }
  }
  return out
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 80)
  } catch {
    return ''
  }
}

export interface BackgroundLoad {
  /** Share of all cores busy, %. */
  busyPct: number
  loadAvg1m: number
  /** Processes that used CPU during the sample, busiest first (% of one core). */
  top: { pid: number; command: string; cpuPct: number }[]
}

/** How busy the machine is with other work, sampled over `ms`. */
export async function backgroundLoad(ms = 2000): Promise<BackgroundLoad> {
  const c0 = cpuTimes()
  const p0 = processTimes()
  await sleep(ms)
  const c1 = cpuTimes()
  const p1 = processTimes()
  const top: BackgroundLoad['top'] = []
  for (const [pid, after] of p1) {
    if (pid === process.pid) continue
    const before = p0.get(pid)
    const ticks = after.ticks - (before?.ticks ?? 0)
    if (ticks <= 0 || !before) continue
    top.push({ pid, command: cmdline(pid) || after.comm, cpuPct: (ticks / (ms / 10)) * 100 })
  }
  top.sort((a, b) => b.cpuPct - a.cpuPct)
  return {
    busyPct: ((c1.busy - c0.busy) / Math.max(1, c1.total - c0.total)) * 100,
    loadAvg1m: os.loadavg()[0] ?? 0,
    top: top.slice(0, 5).map((t) => ({ ...t, cpuPct: Math.round(t.cpuPct) })),
  }
}
