/**
 * The bridge as a user runs it outside a container: `npm run build`, then `node dist/main.js`
 * with its configuration in the environment, optionally on another "host" (a network namespace
 * of test/helpers/netns.ts, entered with nsenter). Its output is kept for "never logged"
 * assertions; `kill()` is a crash (SIGKILL), `stop()` a clean shutdown.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

import { REPO_ROOT } from './docker.js'
import { waitFor } from './wait-for.js'

export const DIST_MAIN = join(REPO_ROOT, 'dist', 'main.js')

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** `npm run build` unless dist/ is already newer than every file of src/ (saves ~20 s). */
export async function ensureBuilt(): Promise<void> {
  let built = 0
  try {
    built = statSync(DIST_MAIN).mtimeMs
  } catch {
    // Not built yet.
  }
  const sources = Math.max(
    newestMtime(join(REPO_ROOT, 'src')),
    statSync(join(REPO_ROOT, 'package-lock.json')).mtimeMs
  )
  if (built > sources) return
  await new Promise<void>((resolve, reject) => {
    execFile(
      'npm',
      ['run', 'build'],
      { cwd: REPO_ROOT, timeout: 180_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`npm run build failed: ${stdout}${stderr}`))
        else resolve()
      }
    )
  })
}

export interface BridgeProcess {
  readonly pid: number
  readonly url: string
  /** Everything it wrote to stdout and stderr so far. */
  output(): string
  /** SIGKILL, as a crash or an OOM kill would; resolves once it is gone. */
  kill(): Promise<void>
  /** SIGTERM; resolves once it exited. */
  stop(): Promise<void>
}

export interface BridgeProcessOptions {
  env: Record<string, string>
  /** The URL it answers on (what a client on the LAN uses). */
  url: string
  /** nsenter arguments that put it on another host (NetHost.enter), or none. */
  enter?: (command: readonly string[]) => string[]
  /** `/health/live` is polled until it answers; the token, if the bridge needs one, is not. */
  startTimeoutMs?: number
}

const running = new Set<ChildProcess>()

/** Starts `node dist/main.js` and waits until it serves `/health/live`. */
export async function startBridgeProcess(opts: BridgeProcessOptions): Promise<BridgeProcess> {
  const command = [process.execPath, DIST_MAIN]
  const [cmd = '', ...args] = opts.enter ? ['nsenter', ...opts.enter(command)] : command
  // nsenter execs node: the child's pid is the bridge's.
  const child = spawn(cmd, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const exited = once(child, 'exit')
  const gone = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal)
      await exited
    }
    running.delete(child)
  }
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the bridge exited: ${out}`)
        const res = await fetch(`${opts.url}/health/live`, { signal: AbortSignal.timeout(1000) })
        return res.ok
      },
      {
        what: `the bridge at ${opts.url}`,
        timeoutMs: opts.startTimeoutMs ?? 20_000,
        intervalMs: 100,
      }
    )
  } catch (err) {
    await gone('SIGKILL')
    throw err
  }
  return {
    pid: child.pid ?? -1,
    url: opts.url,
    output: () => out,
    kill: () => gone('SIGKILL'),
    stop: () => gone('SIGTERM'),
  }
}

/** Kills every bridge process still running (after a failed test). */
export async function killBridgeProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(async (c) => {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = once(c, 'exit')
        c.kill('SIGKILL')
        await exited
      }
      running.delete(c)
    })
  )
}
