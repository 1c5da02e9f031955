import { describe, expect, it } from 'vitest'

import { container } from '../../test/helpers/builders.js'

import {
  basicPassword,
  bearerToken,
  createHeartbeatAuth,
  normalizeAddress,
  senderConflict,
  type Speaker,
} from './auth.js'
import { HttpError } from './errors.js'

const SHARED = 'shared-heartbeat-token-000'
const A = 'token-of-service-a-000001'
const A2 = 'token-of-service-a-000002'
const B = 'token-of-service-b-000001'

function statusOf(fn: () => unknown): number | 'ok' {
  try {
    fn()
    return 'ok'
  } catch (err) {
    if (err instanceof HttpError) return err.status
    throw err
  }
}

describe('Authorization header parsing', () => {
  it.each<[string | undefined, string | null]>([
    [undefined, null],
    ['', null],
    ['Bearer', null],
    ['Bearer ', null],
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER\tabc  ', 'abc'],
    ['Bearer bad token!', null],
    ['Basic YTpi', null],
    ['Token abc', null],
    ['Bearerabc', null],
  ])('bearerToken(%j) = %j', (header, token) => {
    expect(bearerToken(header)).toBe(token)
  })

  it('reads the password of Basic auth, whatever the user name', () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`
    expect(basicPassword(basic('anyone:pa:ss'))).toBe('pa:ss')
    expect(basicPassword(basic(':secret'))).toBe('secret')
    expect(basicPassword(basic('no-colon'))).toBeNull()
    expect(basicPassword('Basic !!!')).toBeNull()
    expect(basicPassword('Bearer abc')).toBeNull()
    expect(basicPassword(undefined)).toBeNull()
  })
})

describe('heartbeat auth policy', () => {
  const tokens = new Map([
    ['a', [A, A2]],
    ['b', [B]],
  ])
  const both = createHeartbeatAuth({ heartbeatToken: SHARED, serviceTokens: tokens })
  const fileOnly = createHeartbeatAuth({ heartbeatToken: null, serviceTokens: tokens })
  const sharedOnly = createHeartbeatAuth({ heartbeatToken: SHARED, serviceTokens: new Map() })
  const open = createHeartbeatAuth({ heartbeatToken: null, serviceTokens: new Map() })
  const speak = (auth: typeof both, token: string | undefined, service: string) =>
    statusOf(() => {
      const speaker: Speaker = auth.authenticate(
        token === undefined ? undefined : `Bearer ${token}`
      )
      auth.authorize(speaker, service)
    })

  it('is open when nothing is configured', () => {
    expect(speak(open, undefined, 'a')).toBe('ok')
    expect(speak(open, 'anything-at-all-really', 'a')).toBe('ok')
  })

  it('binds a service token to its service (every token of a rotation), 403 for others', () => {
    expect(speak(both, A, 'a')).toBe('ok')
    expect(speak(both, A2, 'a')).toBe('ok')
    expect(speak(both, B, 'b')).toBe('ok')
    expect(speak(both, A, 'b')).toBe(403)
    expect(speak(both, B, 'a')).toBe(403)
    expect(speak(both, A, 'unlisted')).toBe(403)
  })

  it('lets HEARTBEAT_TOKEN speak only for services without a token of their own', () => {
    expect(speak(both, SHARED, 'unlisted')).toBe('ok')
    expect(speak(both, SHARED, 'a')).toBe(403)
    expect(speak(sharedOnly, SHARED, 'a')).toBe('ok')
  })

  it('refuses unlisted services when there is no HEARTBEAT_TOKEN', () => {
    expect(speak(fileOnly, A, 'unlisted')).toBe(403)
    expect(speak(fileOnly, SHARED, 'unlisted')).toBe(401)
  })

  it('answers 401 (not 400) for a missing, malformed or unknown token', () => {
    for (const header of [undefined, '', 'Basic YTpi', 'Bearer bad token!', 'Bearer', A]) {
      expect(statusOf(() => both.authenticate(header))).toBe(401)
    }
    expect(speak(both, 'x'.repeat(40), 'a')).toBe(401)
    expect(statusOf(() => both.authenticate(`bearer ${A}`))).toBe('ok')
  })
})

describe('sender address check', () => {
  const web = container('web', { ips: ['172.18.0.2'] })
  const worker = container('worker', { ips: ['172.18.0.3', 'fd00::3'] })
  const all = [web, worker]

  it('refuses a claim for a service with containers, sent from another service’s container', () => {
    expect(senderConflict(all, 'web', '172.18.0.3')).toBe('worker')
    expect(senderConflict(all, 'web', '::ffff:172.18.0.3')).toBe('worker')
    expect(senderConflict(all, 'web', 'FD00::3')).toBe('worker')
  })

  it('accepts the service’s own containers, unknown addresses and services without containers', () => {
    expect(senderConflict(all, 'web', '172.18.0.2')).toBeNull()
    expect(senderConflict(all, 'web', '::ffff:172.18.0.2')).toBeNull()
    expect(senderConflict(all, 'web', '10.0.0.1')).toBeNull()
    expect(senderConflict(all, 'web', null)).toBeNull()
    expect(senderConflict(all, 'external-job', '172.18.0.3')).toBeNull()
  })

  it('accepts an address shared by a container of the claimed service', () => {
    const sidecar = container('web-sidecar', { ips: ['172.18.0.2'] })
    expect(senderConflict([web, sidecar], 'web', '172.18.0.2')).toBeNull()
  })

  it('normalises IPv4-mapped IPv6 and case', () => {
    expect(normalizeAddress('::FFFF:10.0.0.1')).toBe('10.0.0.1')
    expect(normalizeAddress('FE80::1')).toBe('fe80::1')
    expect(normalizeAddress('::ffff:abcd')).toBe('::ffff:abcd')
  })
})
