/** Every input limit: its default, its variable, its bounds, and what a client sees at the edge. */
import { describe, expect, it } from 'vitest'

import { ConfigError, loadConfig } from '../../src/config/config.js'
import { LIMITS } from '../../src/wire/limits.js'
import { errorBodySchema } from '../../src/wire/error.js'
import { testApp } from '../helpers/app.js'

const setup = (env: Record<string, string> = {}) => testApp(env)

/** A heartbeat whose JSON is exactly `bytes` long. */
function heartbeatOfSize(bytes: number): string {
  const base = JSON.stringify({ service: 'a', details: { pad: '' } })
  return JSON.stringify({ service: 'a', details: { pad: 'x'.repeat(bytes - base.length) } })
}

async function errorOf(res: Response, status: number) {
  expect(res.status).toBe(status)
  return errorBodySchema.parse(await res.json())
}

describe('limit configuration', () => {
  it('has documented defaults', () => {
    const c = loadConfig({})
    expect(c.limits).toEqual({
      bodyBytes: 16_384,
      errorChars: 1024,
      detailsBytes: 4096,
      detailsDepth: 8,
    })
    expect(c.limits).toEqual(LIMITS)
    expect(c.serverTimeouts).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      sendTimeoutMs: 30_000,
    })
    expect(c.checkSenderAddress).toBe(false)
  })

  it('reads each limit from its variable', () => {
    const c = loadConfig({
      MAX_BODY_BYTES: '65536',
      MAX_ERROR_CHARS: '200',
      MAX_DETAILS_BYTES: '100',
      MAX_DETAILS_DEPTH: '3',
      HEADERS_TIMEOUT: '2s',
      REQUEST_TIMEOUT: '1m',
      KEEP_ALIVE_TIMEOUT: '500ms',
      SEND_TIMEOUT: '10s',
      CHECK_SENDER_ADDRESS: 'TRUE',
    })
    expect(c.limits).toEqual({
      bodyBytes: 65_536,
      errorChars: 200,
      detailsBytes: 100,
      detailsDepth: 3,
    })
    expect(c.serverTimeouts).toEqual({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 500,
      sendTimeoutMs: 10_000,
    })
    expect(c.checkSenderAddress).toBe(true)
    for (const off of ['false', '0', 'no', 'off', 'Off']) {
      expect(loadConfig({ CHECK_SENDER_ADDRESS: off }).checkSenderAddress).toBe(false)
    }
  })

  it.each<[Record<string, string>, RegExp]>([
    [
      { MAX_BODY_BYTES: '100' },
      /MAX_BODY_BYTES="100": expected a whole number from 1024 to 1048576/,
    ],
    [{ MAX_BODY_BYTES: '16k' }, /MAX_BODY_BYTES="16k"/],
    [{ MAX_ERROR_CHARS: '0' }, /MAX_ERROR_CHARS="0"/],
    [
      { MAX_DETAILS_DEPTH: '1000' },
      /MAX_DETAILS_DEPTH="1000": expected a whole number from 1 to 64/,
    ],
    [{ MAX_DETAILS_BYTES: '-1' }, /MAX_DETAILS_BYTES="-1"/],
    [{ HEADERS_TIMEOUT: '0' }, /HEADERS_TIMEOUT="0": must be at least 1s/],
    [{ KEEP_ALIVE_TIMEOUT: 'forever' }, /KEEP_ALIVE_TIMEOUT="forever": expected a duration/],
    [{ SEND_TIMEOUT: '5s' }, /SEND_TIMEOUT="5s": must be at least 6s/],
    [
      { HEADERS_TIMEOUT: '1m', REQUEST_TIMEOUT: '30s' },
      /HEADERS_TIMEOUT=1m: must not be longer than REQUEST_TIMEOUT \(30s\)/,
    ],
    [{ CHECK_SENDER_ADDRESS: 'maybe' }, /CHECK_SENDER_ADDRESS="maybe": expected true or false/],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })
})

describe('limits at the HTTP edge', () => {
  it('MAX_BODY_BYTES: the limit itself passes, one byte more is 413', async () => {
    const { post } = setup({ MAX_BODY_BYTES: '2048', MAX_DETAILS_BYTES: '4096' })
    expect((await post(heartbeatOfSize(2048))).status).toBe(202)
    const err = await errorOf(await post(heartbeatOfSize(2049)), 413)
    expect(err).toMatchObject({
      error: 'payload_too_large',
      message: 'the body must be at most 2048 bytes',
    })
  })

  it('the default body limit is 16 KiB', async () => {
    const { post } = setup({ MAX_DETAILS_BYTES: '65536' })
    expect((await post(heartbeatOfSize(16 * 1024))).status).toBe(202)
    expect((await post(heartbeatOfSize(16 * 1024 + 1))).status).toBe(413)
  })

  it('MAX_ERROR_CHARS bounds the error message, and says so', async () => {
    const { post } = setup({ MAX_ERROR_CHARS: '100' })
    expect((await post({ service: 'a', error: 'e'.repeat(100) })).status).toBe(202)
    const err = await errorOf(await post({ service: 'a', error: 'e'.repeat(101) }), 400)
    expect(err.issues).toEqual([{ path: 'error', message: 'must be at most 100 characters' }])
  })

  it('MAX_DETAILS_BYTES and MAX_DETAILS_DEPTH bound details', async () => {
    const { post } = setup({ MAX_DETAILS_BYTES: '64', MAX_DETAILS_DEPTH: '3' })
    expect((await post({ service: 'a', details: { a: { b: { c: 1 } } } })).status).toBe(202)
    const deep = await errorOf(
      await post({ service: 'a', details: { a: { b: { c: { d: 1 } } } } }),
      400
    )
    expect(deep.issues).toEqual([
      { path: 'details', message: 'must be nested at most 3 levels deep' },
    ])
    const big = await errorOf(await post({ service: 'a', details: { pad: 'x'.repeat(60) } }), 400)
    expect(big.issues).toEqual([
      { path: 'details', message: 'must be at most 64 bytes when serialized' },
    ])
  })

  it('answers 400, not a stack overflow, for details nested thousands deep within the body limit', async () => {
    const { post } = setup()
    const depth = 8000
    const body = `{"service":"a","details":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`
    expect(body.length).toBeLessThan(16 * 1024)
    const err = await errorOf(await post(body), 400)
    expect(err.issues?.[0]?.message).toBe('must be nested at most 8 levels deep')
  })

  it('MAX_INSTANCES: a new instance beyond it gets 429 while known ones keep reporting', async () => {
    const { post, app, store } = setup({ MAX_INSTANCES: '3' })
    for (const instance of ['i1', 'i2', 'i3']) {
      expect((await post({ service: 'a', instance })).status).toBe(202)
    }
    const err = await errorOf(await post({ service: 'a', instance: 'i4' }), 429)
    expect(err.error).toBe('too_many_instances')
    expect(err.message).toContain('MAX_INSTANCES')
    expect((await post({ service: 'b' })).status).toBe(429)

    // Known instances keep reporting, and what they report is applied.
    expect((await post({ service: 'a', instance: 'i2', error: 'disk full' })).status).toBe(202)
    const doc = (await (await app.request('/health?service=a&instance=i2')).json()) as {
      status: string
    }
    expect(doc.status).toBe('unhealthy')
    expect(store.heartbeatInstances()).toBe(3)

    // Deregistering one makes room.
    expect((await app.request('/health?service=a&instance=i1', { method: 'DELETE' })).status).toBe(
      204
    )
    expect((await post({ service: 'a', instance: 'i4' })).status).toBe(202)
  })
})
