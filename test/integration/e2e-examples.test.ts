/**
 * The heartbeat senders users copy from examples/, run as they are against a real bridge: the
 * curl line, the busybox wget line (in the busybox image, as a healthcheck would run it), and
 * the Python snippet (as a command and as a thread that deregisters on stop).
 */
import { execFile } from 'node:child_process'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { docker, dockerAvailable, REPO_ROOT, TEST_IMAGE } from '../helpers/docker.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

const TOKEN = 'examples-token-0123456789abcdef'
const EXAMPLES = `${REPO_ROOT}examples`

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {}
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: EXAMPLES, timeout: 30_000, env: { PATH: process.env.PATH ?? '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
        resolve({ code, out: `${stdout}${stderr}`.trim() })
      }
    )
  })
}

/** Whether a command exists here; the tests that need it say so when it does not. */
async function has(cmd: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${cmd}`])).code === 0
}

const tools = { curl: await has('curl'), python3: await has('python3') }
for (const [tool, ok] of Object.entries(tools)) {
  if (!ok) process.stderr.write(`\n[examples] ${tool} not installed: its example is not run\n`)
}
const engine = await dockerAvailable()

let bridge: RunningBridge

beforeAll(async () => {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'off',
    HEARTBEAT_TOKEN: TOKEN,
  })
  bridge = await startBridge({ config, logger: memoryLogger().logger })
})
afterAll(() => bridge.stop())

function instance(service: string) {
  return bridge.store.service(service)?.view.instances[0]
}

describe('examples/', () => {
  it.runIf(tools.curl)(
    'heartbeat-curl.sh reports, and fails loudly without the token',
    async () => {
      const env = { HEALTH_BRIDGE_URL: bridge.url, SERVICE: 'curl-example' }
      const refused = await run('sh', ['heartbeat-curl.sh'], env)
      expect(refused.code).not.toBe(0)
      expect(refused.out).toMatch(/401/)
      const sent = await run('sh', ['heartbeat-curl.sh'], { ...env, HEARTBEAT_TOKEN: TOKEN })
      expect(sent).toEqual({ code: 0, out: '' })
      const hostname = (await run('hostname', [])).out
      expect(instance('curl-example')).toMatchObject({ id: hostname, status: 'healthy' })
    }
  )

  it.runIf(engine.ok)('heartbeat-wget.sh reports from the busybox image', async () => {
    // --network host: the container reaches the bridge on this machine's loopback.
    const out = await docker([
      'run',
      '--rm',
      '--network',
      'host',
      '--hostname',
      'wget-box',
      '-v',
      `${EXAMPLES}/heartbeat-wget.sh:/heartbeat-wget.sh:ro`,
      '-e',
      `HEALTH_BRIDGE_URL=${bridge.url}`,
      '-e',
      'SERVICE=wget-example',
      '-e',
      `HEARTBEAT_TOKEN=${TOKEN}`,
      TEST_IMAGE,
      'sh',
      '/heartbeat-wget.sh',
    ])
    expect(out).toBe('')
    expect(instance('wget-example')).toMatchObject({ id: 'wget-box', status: 'healthy' })
  })

  it.runIf(tools.python3)('heartbeat.py sends, reports errors, and deregisters', async () => {
    const base = ['heartbeat.py', '--url', bridge.url, '--token', TOKEN, '--instance', 'py-1']
    const ok = await run('python3', [...base, '--service', 'python-example'])
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.out)).toMatchObject({ service: 'python-example', status: 'healthy' })

    const failing = await run('python3', [
      ...base,
      '--service',
      'python-example',
      '--error',
      'cannot reach the queue',
    ])
    expect(failing.code).toBe(0)
    expect(instance('python-example')).toMatchObject({
      status: 'unhealthy',
      message: 'cannot reach the queue',
    })

    const bad = await run('python3', [...base, '--service', 'not valid'])
    expect(bad.code).toBe(1)
    expect(bad.out).toMatch(/HTTP 400 .*service/)

    expect(
      (await run('python3', [...base, '--service', 'python-example', '--deregister'])).out
    ).toBe('deregistered')
    expect(instance('python-example')).toBeUndefined()
  })

  it.runIf(tools.python3)('HeartbeatThread beats until stop(), then deregisters', async () => {
    const script = `
import sys, time, heartbeat
t = heartbeat.HeartbeatThread(${JSON.stringify(bridge.url)}, "python-thread", instance="py-t",
    interval=0.2, token=${JSON.stringify(TOKEN)}, check=lambda: {"details": {"n": 1}})
t.start()
time.sleep(1.1)
print("beating", flush=True)
sys.stdin.readline()
t.stop()
print("stopped", flush=True)
`
    const child = execFile('python3', ['-c', script], {
      cwd: EXAMPLES,
      env: { PATH: process.env.PATH ?? '' },
    })
    let out = ''
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    await waitFor(() => out.includes('beating'), { timeoutMs: 15_000, what: 'the thread to beat' })
    expect(instance('python-thread')).toMatchObject({
      id: 'py-t',
      status: 'healthy',
      heartbeat: { details: { n: 1 } },
    })
    child.stdin?.end('stop\n')
    await waitFor(() => out.includes('stopped'), { timeoutMs: 15_000, what: 'stop()' })
    expect(instance('python-thread')).toBeUndefined()
  })
})
