import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { parseConfigFile } from './config-file.js'
import { ConfigError, loadConfig } from './config.js'
import { formatDuration } from '../model/format.js'

import { parseDuration } from './duration.js'

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['45', 45_000],
    ['0.5', 500],
    [' 2s ', 2000],
  ])('%s -> %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each(['', 'abc', '10 s', '-1s', '5x', 's', '1e3', '999d'])('%j is refused', (input) => {
    expect(parseDuration(input)).toBeUndefined()
  })

  it.each([
    [500, '500ms'],
    [30_000, '30s'],
    [900_000, '15m'],
    [5_400_000, '1h30m'],
    [1500, '1.5s'],
  ])('formats %i as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      logLevel: 'info',
      dockerHost: 'unix:///var/run/docker.sock',
      docker: 'auto',
      composeProjectName: null,
      heartbeatTimeoutMs: 30_000,
      startupGraceMs: 30_000,
      heartbeatToken: null,
      crashloopRestarts: 2,
      crashloopWindowMs: 900_000,
      crashloopStableAfterMs: 300_000,
      dockerStaleAfterMs: 10_000,
      dockerReconcileEveryMs: 60_000,
      maxInstances: 5000,
      corsOrigins: [],
    })
  })

  it('defaults STARTUP_GRACE to HEARTBEAT_TIMEOUT and treats empty values as unset', () => {
    expect(loadConfig({ HEARTBEAT_TIMEOUT: '45s', STARTUP_GRACE: '' }).startupGraceMs).toBe(45_000)
    expect(loadConfig({ PORT: '' }).port).toBe(8080)
  })

  it.each([
    [
      { PORT: '99999' },
      /^invalid configuration: PORT="99999": expected a whole number from 0 to 65535$/,
    ],
    [
      { HEARTBEAT_TIMEOUT: 'abc' },
      /HEARTBEAT_TIMEOUT="abc": expected a duration such as 500ms, 30s/,
    ],
    [{ HEARTBEAT_TIMEOUT: '10ms' }, /HEARTBEAT_TIMEOUT="10ms": must be at least 100ms/],
    [{ DOCKER: 'yes' }, /DOCKER="yes": expected auto, on or off/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud": expected one of fatal, error/],
    [{ DOCKER_HOST: '/var/run/docker.sock' }, /DOCKER_HOST=.*unix:\/\/\//],
    [{ COMPOSE_PROJECT_NAME: 'My Project' }, /COMPOSE_PROJECT_NAME=/],
    [{ CORS_ORIGINS: 'not a url' }, /CORS_ORIGINS=/],
    [{ CRASHLOOP_RESTARTS: '0' }, /CRASHLOOP_RESTARTS="0"/],
    [
      { CRASHLOOP_STABLE_AFTER: 'soon' },
      /^invalid configuration: CRASHLOOP_STABLE_AFTER="soon": expected a duration such as 500ms/,
    ],
    [{ CRASHLOOP_STABLE_AFTER: '0' }, /CRASHLOOP_STABLE_AFTER="0": must be at least 1s/],
    [{ DOCKER_RECONCILE_EVERY: '500ms' }, /DOCKER_RECONCILE_EVERY="500ms": must be at least 1s/],
  ])('names the variable and what it accepts: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })

  it('never echoes a token back, even when it is invalid', () => {
    try {
      loadConfig({ HEARTBEAT_TOKEN: 'short secret' })
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).toContain('HEARTBEAT_TOKEN="<redacted>"')
      expect((err as Error).message).not.toContain('short secret')
    }
  })

  it('reads CONFIG_FILE and names the path inside it on errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-config-'))
    const good = join(dir, 'good.yaml')
    writeFileSync(
      good,
      'services:\n  query-scheduler:\n    heartbeat: true\n    heartbeatTimeout: 45s\n    dependsOn: [database, queue]\n  garbage-collector:\n    critical: false\n'
    )
    expect(loadConfig({ CONFIG_FILE: good }).services).toEqual({
      'query-scheduler': {
        heartbeat: true,
        heartbeatTimeout: 45_000,
        dependsOn: ['database', 'queue'],
      },
      'garbage-collector': { critical: false },
    })
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'services:\n  query-scheduler:\n    heartbeatTimeout: soon\n')
    expect(() => loadConfig({ CONFIG_FILE: bad })).toThrow(
      `CONFIG_FILE ${bad}: services.query-scheduler.heartbeatTimeout: expected a duration`
    )
    expect(() => loadConfig({ CONFIG_FILE: join(dir, 'missing.yaml') })).toThrow(
      /cannot read \(ENOENT\)/
    )
  })
})

describe('several hosts', () => {
  const ca = join(mkdtempSync(join(tmpdir(), 'hb-ca-')), 'ca.pem')
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')

  it('reads BRIDGE_NAME, PEERS, PEER_TOKEN, PEER_STALE_AFTER and PEER_CA_FILE', () => {
    const config = loadConfig({
      BRIDGE_NAME: 'hub',
      PEERS: 'worker-1=http://10.0.0.2:8080/, worker-2=https://w2.example:8443',
      PEER_TOKEN: 'p'.repeat(24),
      PEER_STALE_AFTER: '15s',
      PEER_CA_FILE: ca,
    })
    expect(config.bridgeName).toBe('hub')
    expect(config.peers).toEqual([
      { name: 'worker-1', url: 'http://10.0.0.2:8080' },
      { name: 'worker-2', url: 'https://w2.example:8443' },
    ])
    expect(config.peerToken).toBe('p'.repeat(24))
    expect(config.peerStaleAfterMs).toBe(15_000)
    expect(config.peerCa).toContain('BEGIN CERTIFICATE')
  })

  it('defaults to no peers, a 10 s stale limit, and the hostname as BRIDGE_NAME', () => {
    const config = loadConfig({})
    expect(config.peers).toEqual([])
    expect(config.peerStaleAfterMs).toBe(10_000)
    expect(config.bridgeName).toMatch(/^[A-Za-z0-9_.-]{1,64}$/)
  })

  it.each([
    ['PEERS', 'worker-1', /PEERS="worker-1": "worker-1": expected comma-separated name=url/],
    ['PEERS', 'w1=ftp://x', /only http:\/\/ and https:\/\/ peers/],
    ['PEERS', 'w1=http://a:1,w1=http://b:1', /the name w1 is listed twice/],
    ['PEERS', 'bad name=http://a:1', /the name must be 1-64 characters/],
    ['PEERS', 'w1=http://a:1/?x=1', /must not have a query/],
    ['BRIDGE_NAME', 'has space', /BRIDGE_NAME="has space": expected 1-64 characters/],
    ['PEER_STALE_AFTER', '2s', /PEER_STALE_AFTER="2s": must be at least 3s/],
  ])('%s=%s is refused with a message that says what to fix', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message)
  })

  it('refuses a peer URL with credentials without repeating them', () => {
    let message = ''
    try {
      loadConfig({ PEERS: 'w1=http://admin:s3cret@10.0.0.2:8080' })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/no credentials in the URL; use PEER_TOKEN/)
    expect(message).not.toContain('s3cret')
  })

  it('refuses a peer named like the bridge itself, and an unreadable or non-PEM CA file', () => {
    expect(() => loadConfig({ BRIDGE_NAME: 'w1', PEERS: 'w1=http://a:1' })).toThrow(
      /a peer is named w1, this bridge's own BRIDGE_NAME/
    )
    expect(() => loadConfig({ PEER_CA_FILE: '/nonexistent/ca.pem' })).toThrow(
      'PEER_CA_FILE /nonexistent/ca.pem: cannot read (ENOENT)'
    )
    const notPem = join(mkdtempSync(join(tmpdir(), 'hb-ca-')), 'x.pem')
    writeFileSync(notPem, 'hello')
    expect(() => loadConfig({ PEER_CA_FILE: notPem })).toThrow(/expected PEM certificates/)
  })

  it('never echoes PEER_TOKEN', () => {
    expect(() => loadConfig({ PEER_TOKEN: 'short secret' })).toThrow(/PEER_TOKEN="<redacted>"/)
  })
})

describe('CONFIG_FILE content', () => {
  it.each([
    ['services:\n  a:\n    role: worker\n', /services\.a\.role: must be "service" or "job"/],
    ['services:\n  a:\n    critical: "no"\n', /services\.a\.critical: must be true or false/],
    [
      'services:\n  a:\n    heartbeatTimout: 5s\n',
      /services\.a: Unrecognized key: "heartbeatTimout"/,
    ],
    ['services:\n  "bad name!":\n    critical: false\n', /services\.bad name!/],
    ['services:\n  a:\n    dependsOn: [ok, "no way"]\n', /services\.a\.dependsOn\[1\]/],
    ['services: [a, b]\n', /services:/],
    ['servics: {}\n', /Unrecognized key: "servics"/],
    ['services:\n  a: {\n', /f\.yaml:\d+:\d+: not valid YAML/],
    ['services:\n  a: {}\n  a: {}\n', /not valid YAML/],
  ])('%j is refused with the path of the problem', (text, message) => {
    expect(() => parseConfigFile(text, 'f.yaml')).toThrow(message)
  })

  it('accepts an empty file and services without settings', () => {
    expect(parseConfigFile('', 'f.yaml')).toEqual({})
    expect(parseConfigFile('services:\n  a:\n', 'f.yaml')).toEqual({ a: {} })
  })
})
