/**
 * compose/multihost/ as `docker compose` reads it, included by a CLP-shaped compose file the
 * way docs/deployment.md says ("Several hosts"): each host includes its own file through one
 * interpolated line. What it must give: the snippet's hardening unchanged, the worker's port on
 * the host's address only, one token variable for both sides, an optional CA file, required
 * variables that stop `compose` with their name, and an environment the bridge itself accepts.
 * Only the docker CLI and its compose plugin are needed (no engine): `compose config`.
 * The same files on real engines: multihost-engines.test.ts.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { loadConfig } from '../../src/config/config.js'
import { cleanUp, tempDir } from '../helpers/compose.js'
import { REPO_ROOT, REQUIRE_DOCKER } from '../helpers/docker.js'

const DIR = `${REPO_ROOT}compose/multihost`
const TOKEN = 'the-shared-peer-token-0123456789'

function run(args: readonly string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    // Only what is given: a variable of the developer's shell must not satisfy a required one.
    // DOCKER_CONFIG stays: it picks the compose plugin (CI's older-engine lane has Compose 2.26).
    const clean: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/',
    }
    const dockerConfig = process.env['DOCKER_CONFIG']
    if (dockerConfig !== undefined) clean['DOCKER_CONFIG'] = dockerConfig
    execFile('docker', args, { env: { ...clean, ...env }, timeout: 30_000 }, (err, out, stderr) => {
      if (err) reject(new Error(stderr.trim() || err.message))
      else resolve(out)
    })
  })
}

const composeReason = await run(['compose', 'version'], {}).then(
  () => null,
  (err: unknown) => `docker compose does not run: ${(err as Error).message}`
)
if (composeReason !== null) {
  if (REQUIRE_DOCKER) throw new Error(`REQUIRE_DOCKER=1 but ${composeReason}`)
  process.stderr.write(`\n[multi-host compose test skipped] ${composeReason}\n`)
}

afterAll(async () => {
  await cleanUp()
})

/** CLP's package compose file, with the one line the guide adds to it. */
function clpComposeFile(): string {
  const file = join(tempDir('hbt-mh-compose'), 'docker-compose.yaml')
  writeFileSync(
    file,
    [
      'include:',
      '  - ${HEALTH_BRIDGE_COMPOSE_FILE:-' + REPO_ROOT + 'compose/health-bridge.yaml}',
      'services:',
      '  query-worker: { image: clp-package, command: ["true"] }',
      '',
    ].join('\n')
  )
  return file
}

interface ServiceConfig {
  environment: Record<string, string>
  ports: { host_ip: string; published: string; target: number }[]
  volumes: { source: string; target: string; read_only?: boolean }[]
  [key: string]: unknown
}

async function config(file: string, env: Record<string, string>): Promise<ServiceConfig> {
  const out = await run(
    ['compose', '-p', 'clp-package-1234', '-f', file, 'config', '--format', 'json'],
    env
  )
  const parsed = JSON.parse(out) as { services: Record<string, ServiceConfig> }
  const s = parsed.services['health-bridge']
  if (!s) throw new Error('no health-bridge service')
  return s
}

const WORKER_ENV = {
  HEALTH_BRIDGE_COMPOSE_FILE: `${DIR}/worker.yaml`,
  DOCKER_GID: '999',
  HEALTH_BRIDGE_NAME: 'worker-1',
  HEALTH_BRIDGE_BIND: '10.0.0.11',
  HEALTH_BRIDGE_PEER_TOKEN: TOKEN,
}
const HUB_ENV = {
  HEALTH_BRIDGE_COMPOSE_FILE: `${DIR}/hub.yaml`,
  DOCKER_GID: '999',
  HEALTH_BRIDGE_NAME: 'main',
  HEALTH_BRIDGE_PEERS: 'worker-1=http://10.0.0.11:8080,worker-2=https://10.0.0.12:8443',
  HEALTH_BRIDGE_PEER_TOKEN: TOKEN,
}

/** What compose/health-bridge.yaml makes of the bridge, and what must not change. */
const HARDENING = [
  'image',
  'build',
  'restart',
  'read_only',
  'cap_drop',
  'security_opt',
  'mem_limit',
  'pids_limit',
  'group_add',
  'healthcheck',
  'stop_grace_period',
  'labels',
] as const

/** The bridge's configuration from what compose would pass it (container paths made local). */
function bridgeConfig(s: ServiceConfig, local: Record<string, string>) {
  const env: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(s.environment)) env[k] = v === '' ? undefined : v
  return loadConfig({ ...env, ...local })
}

describe.skipIf(composeReason !== null)('compose/multihost as compose reads it', () => {
  it('gives a worker host the snippet’s hardening, its port on the host’s address only, and the token', async () => {
    const file = clpComposeFile()
    const single = await config(file, { DOCKER_GID: '999' })
    const worker = await config(file, WORKER_ENV)
    for (const key of HARDENING) expect([key, worker[key]]).toEqual([key, single[key]])
    expect(worker.ports.map((p) => [p.host_ip, p.published, p.target])).toEqual([
      ['10.0.0.11', '8080', 8080],
    ])
    expect(worker.environment).toMatchObject({
      BRIDGE_NAME: 'worker-1',
      READ_TOKEN: TOKEN,
      DOCKER: 'on',
      CONFIG_FILE: '/etc/health-bridge/services.yaml',
    })
    expect(worker.volumes.map((v) => [v.source, v.target, v.read_only])).toEqual([
      ['/var/run/docker.sock', '/var/run/docker.sock', true],
      [`${DIR}/clp-services.yaml`, '/etc/health-bridge/services.yaml', true],
    ])

    const c = bridgeConfig(worker, { CONFIG_FILE: `${DIR}/clp-services.yaml` })
    expect([c.bridgeName, c.readToken, c.peers]).toEqual(['worker-1', TOKEN, []])
  })

  it('gives the hub host its peers, the same token, and an optional CA file', async () => {
    const file = clpComposeFile()
    const single = await config(file, { DOCKER_GID: '999' })
    const hub = await config(file, HUB_ENV)
    for (const key of HARDENING) expect([key, hub[key]]).toEqual([key, single[key]])
    // The WebUI reads the hub on the compose network; the port stays on loopback.
    expect(hub.ports.map((p) => [p.host_ip, p.published])).toEqual([['127.0.0.1', '8080']])
    expect(hub.environment).toMatchObject({
      BRIDGE_NAME: 'main',
      PEERS: HUB_ENV.HEALTH_BRIDGE_PEERS,
      PEER_TOKEN: TOKEN,
      PEER_CA_FILE: '',
      PEER_STALE_AFTER: '',
      // The hub's own readers are another matter than its peers.
      READ_TOKEN: '',
    })
    // Without a CA file nothing is trusted but Node's store; the mount is an empty stand-in.
    expect(hub.volumes.map((v) => [v.source, v.target])).toEqual([
      ['/var/run/docker.sock', '/var/run/docker.sock'],
      [`${DIR}/clp-services.yaml`, '/etc/health-bridge/services.yaml'],
      ['/dev/null', '/etc/health-bridge/peer-ca.pem'],
    ])
    const plain = bridgeConfig(hub, { CONFIG_FILE: `${DIR}/clp-services.yaml` })
    expect([plain.peerCa, plain.peerToken]).toEqual([null, TOKEN])
    expect(plain.peers.map((p) => [p.name, p.url])).toEqual([
      ['worker-1', 'http://10.0.0.11:8080'],
      ['worker-2', 'https://10.0.0.12:8443'],
    ])

    const ca = join(tempDir('hbt-mh-ca'), 'ca.pem')
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
    const withCa = await config(file, {
      ...HUB_ENV,
      HEALTH_BRIDGE_PEER_CA_FILE: ca,
      HEALTH_BRIDGE_PEER_STALE_AFTER: '15s',
    })
    expect(withCa.environment.PEER_CA_FILE).toBe('/etc/health-bridge/peer-ca.pem')
    expect(withCa.volumes.find((v) => v.target === '/etc/health-bridge/peer-ca.pem')?.source).toBe(
      ca
    )
    const c = bridgeConfig(withCa, { CONFIG_FILE: `${DIR}/clp-services.yaml`, PEER_CA_FILE: ca })
    expect([c.peerCa?.startsWith('-----BEGIN CERTIFICATE-----'), c.peerStaleAfterMs]).toEqual([
      true,
      15_000,
    ])
  })

  it('stops compose with the name of a missing required variable', async () => {
    const file = clpComposeFile()
    const required = {
      worker: [
        WORKER_ENV,
        ['HEALTH_BRIDGE_NAME', 'HEALTH_BRIDGE_BIND', 'HEALTH_BRIDGE_PEER_TOKEN'],
      ],
      hub: [HUB_ENV, ['HEALTH_BRIDGE_NAME', 'HEALTH_BRIDGE_PEERS', 'HEALTH_BRIDGE_PEER_TOKEN']],
    } as const
    for (const [env, names] of Object.values(required)) {
      for (const name of names) {
        const without = Object.fromEntries(Object.entries(env).filter(([k]) => k !== name))
        await expect(config(file, without)).rejects.toThrow(
          new RegExp(`required variable ${name} is missing a value: set ${name} `)
        )
      }
    }
  })

  it('ships a CONFIG_FILE that says what --no-deps hides: CLP’s jobs and dependencies', () => {
    const c = loadConfig({ CONFIG_FILE: `${DIR}/clp-services.yaml`, DOCKER: 'off' })
    expect(c.services['db-table-creator']).toMatchObject({ role: 'job', dependsOn: ['database'] })
    expect(c.services['results-cache-indices-creator']?.role).toBe('job')
    expect(c.services['reducer']?.dependsOn).toEqual([
      'query-scheduler',
      'results-cache-indices-creator',
    ])
    // Each host runs only some services: none is "missing" where it does not run.
    expect(Object.values(c.services).every((s) => s.optional === true)).toBe(true)
    // No heartbeat is expected by default: CLP's services do not send any yet.
    expect(Object.values(c.services).some((s) => s.heartbeat !== undefined)).toBe(false)
  })
})
