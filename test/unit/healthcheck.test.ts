/**
 * The image's HEALTHCHECK (`node dist/healthcheck.js`): where it looks, and what Docker sees from
 * it (exit code and the one line that lands in `docker inspect`'s health log).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterEach, describe, expect, it } from 'vitest'

import { ConfigError, livenessUrl } from '../../src/config/config.js'

describe('livenessUrl', () => {
  it('asks loopback on the listening port when the bridge listens on every address', () => {
    expect(livenessUrl({})).toBe('http://127.0.0.1:8080/health/live')
    expect(livenessUrl({ PORT: '9000', HOST: '::' })).toBe('http://127.0.0.1:9000/health/live')
    expect(livenessUrl({ PORT: ' ', HOST: '' })).toBe('http://127.0.0.1:8080/health/live')
  })

  it('asks the one address the bridge listens on otherwise', () => {
    expect(livenessUrl({ HOST: '10.1.2.3' })).toBe('http://10.1.2.3:8080/health/live')
    expect(livenessUrl({ HOST: '::1', PORT: '81' })).toBe('http://[::1]:81/health/live')
  })

  it('refuses a port it cannot probe', () => {
    expect(() => livenessUrl({ PORT: 'http' })).toThrow(ConfigError)
    expect(() => livenessUrl({ PORT: '0' })).toThrow(/PORT and HOST must name a fixed address/)
  })
})

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((resolve) => {
          s.close(resolve)
        })
    )
  )
})

/** A stand-in bridge answering `status` on /health/live; resolves to its port. */
async function serve(status: number): Promise<number> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/health/live' ? status : 404).end()
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

async function healthcheck(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/healthcheck.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, out: out.trim() }
}

describe('node dist/healthcheck.js', () => {
  it('exits 0 while the bridge is live', async () => {
    const port = await serve(200)
    expect(await healthcheck({ PORT: String(port) })).toEqual({ code: 0, out: 'live' })
  }, 20_000)

  it('exits 1 with the reason when the bridge answers something else, or nothing', async () => {
    const port = await serve(503)
    expect(await healthcheck({ PORT: String(port) })).toEqual({
      code: 1,
      out: `health-bridge healthcheck: http://127.0.0.1:${port}/health/live answered HTTP 503`,
    })
    servers[0]?.close()
    const refused = await healthcheck({ PORT: String(port) })
    expect(refused.code).toBe(1)
    expect(refused.out).toMatch(/ECONNREFUSED/)
  }, 20_000)
})
