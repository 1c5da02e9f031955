import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { inspectInfo } from '../../../test/helpers/docker-fake-api.js'

import {
  CLIENT_MAX_API,
  compareApiVersions,
  DockerodeApi,
  isVersionMismatch,
  modemTarget,
  negotiateApiVersion,
} from './docker-api.js'

describe('negotiateApiVersion', () => {
  it.each([
    { desc: 'Engine 20.10 (Debian bookworm)', max: '1.41', min: '1.12', out: '1.41' },
    { desc: 'Engine 29 (refuses < 1.44)', max: '1.52', min: '1.44', out: '1.52' },
    { desc: 'an engine newer than we know', max: '1.60', min: '1.44', out: CLIENT_MAX_API },
    { desc: 'an engine whose minimum passed our newest', max: '1.70', min: '1.60', out: '1.60' },
    { desc: 'an engine that states no minimum', max: '1.30', min: undefined, out: '1.30' },
  ])('$desc -> $out', ({ max, min, out }) => {
    expect(negotiateApiVersion(max, min)).toBe(out)
  })

  it('refuses an engine older than the oldest API we read', () => {
    expect(() => negotiateApiVersion('1.23', '1.12')).toThrow(/older than 1.24/)
  })

  it('compares versions as numbers, not strings', () => {
    expect(compareApiVersions('1.9', '1.41')).toBeLessThan(0)
    expect(compareApiVersions('2.0', '1.99')).toBeGreaterThan(0)
    expect(compareApiVersions('1.41', '1.41')).toBe(0)
  })
})

describe('isVersionMismatch', () => {
  it.each([
    {
      code: 400,
      msg: 'client version 1.24 is too old. Minimum supported API version is 1.44, please upgrade your client',
      out: true,
    },
    {
      code: 400,
      msg: 'client version 1.52 is too new. Maximum supported API version is 1.41',
      out: true,
    },
    { code: 400, msg: 'invalid filter', out: false },
    { code: 500, msg: 'client version 1.24 is too old', out: false },
  ])('$code $msg', ({ code, msg, out }) => {
    expect(isVersionMismatch(code, msg)).toBe(out)
  })
})

describe('modemTarget', () => {
  it('uses the socket path and nothing docker-modem would read from the environment', () => {
    expect(modemTarget('unix:///var/run/docker.sock')).toEqual({
      socketPath: '/var/run/docker.sock',
      host: undefined,
      port: undefined,
      ca: undefined,
      cert: undefined,
      key: undefined,
      timeout: undefined,
    })
  })

  it.each([
    {
      host: 'tcp://socket-proxy:2375',
      out: { host: 'socket-proxy', port: 2375, protocol: 'http' },
    },
    { host: 'http://10.0.0.2:2375/', out: { host: '10.0.0.2', port: 2375, protocol: 'http' } },
    {
      host: 'https://docker.example:2376',
      out: { host: 'docker.example', port: 2376, protocol: 'https' },
    },
    { host: 'tcp://[::1]:2375', out: { host: '::1', port: 2375, protocol: 'http' } },
  ])('$host', ({ host, out }) => {
    expect(modemTarget(host)).toMatchObject({ ...out, socketPath: undefined, timeout: undefined })
  })
})

describe('DockerodeApi against a stand-in engine on a unix socket', () => {
  let dir: string
  let socket: string
  let server: Server
  const seen: string[] = []
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hb-api-'))
    socket = join(dir, 'engine.sock')
    server = createServer((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''}`)
      handler(req, res)
    })
    await new Promise<void>((resolve) => server.listen(socket, resolve))
  })

  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve()
      })
    )
    rmSync(dir, { recursive: true, force: true })
  })

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const signal = () => new AbortController().signal

  it('negotiates unversioned, then pins every request to the negotiated version', async () => {
    seen.length = 0
    handler = (req, res) => {
      if (req.url === '/version')
        json(res, 200, { Version: '29.0.1', ApiVersion: '1.53', MinAPIVersion: '1.44' })
      else json(res, 200, [{ Id: 'a'.repeat(64), State: 'running', Labels: { secret: 'x' } }])
    }
    const api = new DockerodeApi({ dockerHost: `unix://${socket}` })
    await expect(api.negotiate(signal())).resolves.toEqual({
      version: '29.0.1',
      apiVersion: CLIENT_MAX_API,
    })
    await expect(api.listContainers('clp', signal())).resolves.toEqual([
      { id: 'a'.repeat(64), state: 'running' },
    ])
    expect(seen[0]).toBe('GET /version')
    const list = new URL(seen[1]?.slice(4) ?? '', 'http://x')
    expect(list.pathname).toBe(`/v${CLIENT_MAX_API}/containers/json`)
    expect(list.searchParams.get('all')).toBe('true')
    expect(JSON.parse(list.searchParams.get('filters') ?? '')).toEqual({
      label: ['com.docker.compose.project=clp'],
    })
  })

  it('answers null for a container the engine does not know, and drops what it does not read', async () => {
    const id = 'b'.repeat(64)
    handler = (req, res) => {
      if (req.url?.includes('nope')) json(res, 404, { message: 'No such container: nope' })
      else
        json(res, 200, {
          ...inspectInfo('web', { Id: id }),
          Config: { Hostname: 'h', Env: ['PW=hunter2'], Labels: {} },
          Mounts: [{ Source: '/secrets' }],
        })
    }
    const api = new DockerodeApi({ dockerHost: `unix://${socket}` })
    await expect(api.inspectContainer('nope', signal())).resolves.toBeNull()
    const info = await api.inspectContainer(id, signal())
    expect(info?.Id).toBe(id)
    expect(JSON.stringify(info)).not.toMatch(/hunter2|secrets/)
  })

  it('never puts an odd container reference into a URL', async () => {
    seen.length = 0
    const api = new DockerodeApi({ dockerHost: `unix://${socket}` })
    await expect(api.inspectContainer('../../images/json', signal())).resolves.toBeNull()
    expect(seen).toEqual([])
  })

  it('tells a refused API version apart from other HTTP errors', async () => {
    handler = (req, res) => {
      if (req.url?.includes('containers/json')) {
        json(res, 400, {
          message: 'client version 1.41 is too old. Minimum supported API version is 1.44',
        })
      } else json(res, 500, { message: 'boom' })
    }
    const api = new DockerodeApi({ dockerHost: `unix://${socket}` })
    await expect(api.listContainers('p', signal())).rejects.toMatchObject({
      kind: 'version',
      statusCode: 400,
    })
    await expect(api.inspectContainer('c'.repeat(64), signal())).rejects.toMatchObject({
      kind: 'http',
      statusCode: 500,
      message: 'GET /containers/{id}/json: HTTP 500 boom',
    })
  })

  it('bounds each request, but not an open events stream', async () => {
    handler = (req, res) => {
      if (req.url?.includes('/events')) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.flushHeaders()
        setTimeout(() => res.write('{"Action":"start"}\n'), 150)
      }
      // Anything else: never answered.
    }
    const api = new DockerodeApi({ dockerHost: `unix://${socket}`, requestTimeoutMs: 100 })
    await expect(api.listContainers('p', signal())).rejects.toMatchObject({
      kind: 'timeout',
      message: 'GET /containers/json timed out after 100 ms',
    })
    const controller = new AbortController()
    const stream = await api.events({ since: 1, filters: {} }, controller.signal)
    const first = await new Promise<string>((resolve) =>
      stream.once('data', (c: Buffer) => {
        resolve(c.toString())
      })
    )
    expect(first).toBe('{"Action":"start"}\n')
    const closed = new Promise<void>((resolve) =>
      stream.once('close', () => {
        resolve()
      })
    )
    controller.abort()
    await closed
  })

  it('says what is wrong when nothing listens on the socket', async () => {
    const api = new DockerodeApi({ dockerHost: `unix://${join(dir, 'missing.sock')}` })
    await expect(api.negotiate(signal())).rejects.toMatchObject({
      kind: 'unreachable',
      message: expect.stringMatching(/ENOENT/) as unknown,
    })
  })

  it('refuses something that is not a Docker engine', async () => {
    handler = (_req, res) => {
      json(res, 200, { hello: 'world' })
    }
    const api = new DockerodeApi({ dockerHost: `unix://${socket}` })
    await expect(api.negotiate(signal())).rejects.toMatchObject({ kind: 'protocol' })
  })
})
