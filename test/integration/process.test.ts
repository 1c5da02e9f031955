/**
 * The bridge as a user starts it: a real process, real HTTP, real signals.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'

import { afterEach, describe, expect, it } from 'vitest'

import { waitFor } from '../helpers/wait-for.js'

const children: ChildProcessWithoutNullStreams[] = []

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  return { child, exited, out: () => stdout, err: () => stderr }
}

function logLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
})

describe('the bridge process', () => {
  it('refuses a bad value with one line naming the variable, exit code 2, no stack trace', async () => {
    const p = startMain({ HEARTBEAT_TIMEOUT: 'soon', PORT: '0' })
    const [code] = await p.exited
    expect(code).toBe(2)
    expect(p.err()).toBe(
      'health-bridge: invalid configuration: HEARTBEAT_TIMEOUT="soon": expected a duration such as 500ms, 30s, 15m, 1h, 1m30s or plain seconds\n'
    )
    expect(p.out()).toBe('')
  })

  it('runs heartbeat-only without an engine (one warning), serves, and exits 0 within 2 s on SIGTERM', async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000))
    const p = startMain({
      PORT: port,
      HOST: '127.0.0.1',
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    })
    const base = `http://127.0.0.1:${port}`
    await waitFor(async () => (await fetch(`${base}/health/live`)).ok, {
      what: 'the bridge to listen',
      timeoutMs: 15_000,
    })
    const res = await fetch(`${base}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'reducer' }),
    })
    expect(res.status).toBe(202)
    expect((await fetch(`${base}/health/ready`)).status).toBe(200)
    const warnings = logLines(p.out()).filter((l) => l.level === 40)
    expect(warnings).toHaveLength(1)
    expect(String(warnings[0]?.msg)).toMatch(/heartbeat-only/)

    const started = Date.now()
    p.child.kill('SIGTERM')
    const [code] = await p.exited
    expect(code).toBe(0)
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
