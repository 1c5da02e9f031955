/**
 * The bridge under soak: `node dist/main.js` as `npm start` runs it, a process of its own on
 * loopback, configured only through its environment. Its log goes to a file; lines at error
 * level or above (and anything that is not pino's NDJSON: a crash trace) are kept for the
 * verdict. Nothing here runs inside the bridge: memory and CPU are read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'

import { DIST_MAIN, ensureBuilt } from '../../test/helpers/bridge-process.js'
import { freePort, REPO_ROOT } from '../lib/proc.js'

import { sleep } from './tally.js'

export interface SoakBridge {
  readonly url: string
  readonly pid: number
  readonly child: ChildProcess
  /** Error-level log lines (and non-JSON output), first 200 kept. */
  readonly errorLines: string[]
  errorCount(): number
  /** Exit code or signal once it has exited, else null. */
  exited(): string | null
  /** SIGTERM; resolves with the exit code and how long it took. SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; ms: number }>
}

export async function startSoakBridge(
  env: Record<string, string>,
  logFile: string
): Promise<SoakBridge> {
  await ensureBuilt()
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [DIST_MAIN], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, HOST: '127.0.0.1', PORT: `${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log = createWriteStream(logFile)
  const errorLines: string[] = []
  let errors = 0
  let partial = ''
  const watch = (chunk: Buffer) => {
    log.write(chunk)
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line.trim() === '') continue
      let level = 60 // not pino's NDJSON: a crash trace or a fatal message
      try {
        level = (JSON.parse(line) as { level?: number }).level ?? 0
      } catch {
        // keep 60
      }
      if (level >= 50) {
        errors++
        if (errorLines.length < 200) errorLines.push(line.slice(0, 500))
      }
    }
  }
  child.stdout.on('data', watch)
  child.stderr.on('data', watch)
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const exited = () =>
    child.exitCode !== null
      ? `exit ${child.exitCode}`
      : child.signalCode !== null
        ? `signal ${child.signalCode}`
        : null

  const ready = env.DOCKER === 'on' ? '/health/ready' : '/health/live'
  const deadline = Date.now() + 60_000
  for (;;) {
    if (exited() !== null) throw new Error(`the bridge ${exited()} at start; see ${logFile}`)
    try {
      const res = await fetch(url + ready, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the bridge was not ready within 60 s; see ${logFile}`)
    }
    await sleep(100)
  }

  return {
    url,
    pid: child.pid ?? -1,
    child,
    errorLines,
    errorCount: () => errors,
    exited,
    stop: async (graceMs = 15_000) => {
      const t0 = performance.now()
      if (exited() === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
        await exit
        clearTimeout(t)
      }
      const ms = performance.now() - t0
      log.end()
      return { code: child.exitCode, ms }
    },
  }
}
