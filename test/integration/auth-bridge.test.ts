/**
 * Auth on a real server: the sender address check (it needs a real socket), and canary tokens
 * that must appear in no log line of a whole bridge life, start-up and shutdown included.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { container } from '../helpers/builders.js'
import { memoryLogger } from '../helpers/log-sink.js'

const running: RunningBridge[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.stop()))
})

async function start(env: Record<string, string>, level = 'info') {
  const { logger, raw } = memoryLogger(level)
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DOCKER: 'off', ...env })
  const bridge = await startBridge({ config, logger })
  running.push(bridge)
  const beat = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${bridge.url}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
  return { bridge, beat, raw }
}

describe('CHECK_SENDER_ADDRESS', () => {
  // The test client connects from 127.0.0.1: make that the address of a "worker" container.
  const containers = [
    container('web', { ips: ['172.30.0.2'] }),
    container('worker', { ips: ['127.0.0.1'] }),
  ]

  it("refuses a heartbeat for a service with containers, sent from another service's container", async () => {
    const { bridge, beat } = await start({ CHECK_SENDER_ADDRESS: 'true' })
    bridge.store.replaceContainers(containers)
    const res = await beat({ service: 'web', error: 'spoofed' })
    expect(res.status).toBe(403)
    const body = (await res.json()) as { error: string; message: string }
    expect(body.error).toBe('forbidden')
    expect(body.message).toContain('an address of service "worker"')
    const web = await fetch(`${bridge.url}/health?service=web`)
    expect(((await web.json()) as { status: string }).status).toBe('healthy')

    // Its own service, and services without containers, are fine.
    expect((await beat({ service: 'worker' })).status).toBe(202)
    expect((await beat({ service: 'cron-outside-compose' })).status).toBe(202)
    // Deregistration is held to the same rule.
    const del = await fetch(`${bridge.url}/health?service=web&instance=x`, { method: 'DELETE' })
    expect(del.status).toBe(403)
  })

  it('is off by default', async () => {
    const { bridge, beat } = await start({})
    bridge.store.replaceContainers(containers)
    expect((await beat({ service: 'web' })).status).toBe(202)
  })
})

describe('secrets in logs', () => {
  it('no canary token appears in any log line of a whole bridge life', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-canary-'))
    const tokensFile = join(dir, 'tokens.yaml')
    const canaries = {
      shared: 'canary-7c1e-shared-heartbeat-token',
      a: 'canary-91ab-service-a-token-xxxxx',
      read: 'canary-33fd-read-token-xxxxxxxxx',
    }
    writeFileSync(tokensFile, `a: ${canaries.a}\n`)
    const { bridge, beat, raw } = await start(
      {
        HEARTBEAT_TOKEN: canaries.shared,
        HEARTBEAT_TOKENS_FILE: tokensFile,
        READ_TOKEN: canaries.read,
        LOG_LEVEL: 'trace',
      },
      'trace'
    )
    const all = Object.values(canaries)
    for (const token of [...all, 'canary-wrong-token-000000000']) {
      for (const auth of [
        `Bearer ${token}`,
        `bearer ${token}`,
        token,
        `Basic ${Buffer.from(`u:${token}`).toString('base64')}`,
      ]) {
        const headers = { authorization: auth }
        await (await beat({ service: 'a' }, headers)).text()
        await (await beat({ service: 'b', error: 'e' }, headers)).text()
        await (await beat({ service: 'a', eror: 'typo' }, headers)).text()
        await (await fetch(`${bridge.url}/health`, { headers })).text()
        await (await fetch(`${bridge.url}/metrics`, { headers })).text()
        await (await fetch(`${bridge.url}/health?service=a`, { method: 'DELETE', headers })).text()
      }
    }
    await bridge.stop()
    expect(raw.some((l) => l.includes('health-bridge listening'))).toBe(true)
    expect(raw.some((l) => l.includes('heartbeat instance registered'))).toBe(true)
    for (const line of raw) for (const canary of all) expect(line).not.toContain(canary)
  })
})
