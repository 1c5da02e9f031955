import { describe, expect, it } from 'vitest'

import { testApp } from '../../../test/helpers/app.js'

const TOKEN = 'a-long-enough-heartbeat-token'
const setup = (env: Record<string, string> = {}) => testApp(env)

describe('POST /health', () => {
  it('accepts a heartbeat with 202 and the contract fields; receive time is authoritative', async () => {
    const { post } = setup({ HEARTBEAT_TIMEOUT: '45s' })
    const before = Date.now()
    const res = await post({
      service: 'query-scheduler',
      instance: '3f2a9c1b7d4e',
      timestamp: '2000-01-01T00:00:00Z',
      details: { queueDepth: 3 },
    })
    expect(res.status).toBe(202)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      service: 'query-scheduler',
      instance: '3f2a9c1b7d4e',
      status: 'healthy',
      timeoutSeconds: 45,
    })
    expect(Date.parse(body.receivedAt as string)).toBeGreaterThanOrEqual(before)
  })

  it('yields clockSkewSeconds from the sender timestamp, and nothing else', async () => {
    const { post, app } = setup()
    await post({ service: 'a', timestamp: Date.now() + 5000 })
    const doc = (await (await app.request('/health')).json()) as {
      services: { instances: { heartbeat: { clockSkewSeconds: number } }[] }[]
    }
    const skew = doc.services[0]?.instances[0]?.heartbeat.clockSkewSeconds ?? 0
    expect(skew).toBeGreaterThan(4.5)
    expect(skew).toBeLessThanOrEqual(5)
    expect(doc.services[0]).toMatchObject({ status: 'healthy' })
  })

  it.each<[string, unknown, string, number, RegExp]>([
    ['bad JSON', '{"service": ', 'application/json', 400, /not valid JSON/],
    ['empty body', '', 'application/json', 400, /body is empty/],
    ['JSON that is not an object', '[1,2]', 'application/json', 400, /\(body\)/],
    ['missing service', { instance: 'x' }, 'application/json', 400, /service: is required/],
    ['wrong type', { service: 42 }, 'application/json', 400, /service: must be a string/],
    [
      'bad service charset',
      { service: '../etc' },
      'application/json',
      400,
      /service: must be 1-64 characters/,
    ],
    [
      'over-long service',
      { service: 'a'.repeat(65) },
      'application/json',
      400,
      /service: must be 1-64/,
    ],
    [
      'over-long instance',
      { service: 'a', instance: 'b'.repeat(129) },
      'application/json',
      400,
      /instance: must be 1-128/,
    ],
    ['unicode service', { service: 'schedüler' }, 'application/json', 400, /service:/],
    [
      'over-long error',
      { service: 'a', error: 'x'.repeat(1025) },
      'application/json',
      400,
      /error: must be at most 1024/,
    ],
    [
      'empty error',
      { service: 'a', error: '' },
      'application/json',
      400,
      /error: must not be empty/,
    ],
    [
      'unknown status',
      { service: 'a', status: 'ok' },
      'application/json',
      400,
      /status: must be one of/,
    ],
    [
      'misspelt field',
      { service: 'a', eror: 'boom' },
      'application/json',
      400,
      /unknown field\(s\): eror/,
    ],
    [
      'timestamp without zone',
      { service: 'a', timestamp: '2026-11-21T10:00:00' },
      'application/json',
      400,
      /timestamp:/,
    ],
    [
      'details not an object',
      { service: 'a', details: [1] },
      'application/json',
      400,
      /details: must be a JSON object/,
    ],
    [
      'details too deep',
      { service: 'a', details: JSON.parse('{"a":'.repeat(12) + '1' + '}'.repeat(12)) as unknown },
      'application/json',
      400,
      /details: must be nested at most 8/,
    ],
    [
      'details too large',
      { service: 'a', details: { blob: 'x'.repeat(5000) } },
      'application/json',
      400,
      /details: must be at most 4096 bytes/,
    ],
    ['wrong content type', { service: 'a' }, 'text/plain', 415, /Content-Type: application\/json/],
    [
      'form content type',
      'service=a',
      'application/x-www-form-urlencoded',
      415,
      /application\/json/,
    ],
    [
      'huge body',
      { service: 'a', error: 'x'.repeat(20_000) },
      'application/json',
      413,
      /at most 16384 bytes/,
    ],
  ])(
    '%s -> %i with a message that says what to fix',
    async (_desc, body, type, status, message) => {
      const { post, app } = setup()
      await post({ service: 'keep' })
      const before = await (await app.request('/health')).text()
      const res = await post(body, { 'content-type': type })
      expect(res.status).toBe(status)
      const err = (await res.json()) as { error: string; message: string; issues?: unknown[] }
      expect(err.message).toMatch(message)
      // Every 400 lists its issues, a body that is not JSON at all included (docs/api.md).
      if (status === 400) expect(err.issues?.length).toBeGreaterThan(0)
      // A rejected request changes nothing.
      expect((await (await app.request('/health')).text()).replace(/"checkedAt":"[^"]+"/, '')).toBe(
        before.replace(/"checkedAt":"[^"]+"/, '')
      )
    }
  )

  it('answers 413 for a chunked body over the limit, counting as it reads', async () => {
    const { app } = setup()
    const big = new TextEncoder().encode(
      JSON.stringify({ service: 'a', error: 'x'.repeat(30_000) })
    )
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 1000) controller.enqueue(big.slice(i, i + 1000))
        controller.close()
      },
    })
    const res = await app.request('/health', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
  })

  it('reads error as unhealthy whatever status claims, and succeeded/failed as a job end', async () => {
    const { post } = setup()
    expect(
      await (await post({ service: 'a', status: 'healthy', error: 'db down' })).json()
    ).toMatchObject({ status: 'unhealthy' })
    expect(await (await post({ service: 'j', status: 'succeeded' })).json()).toMatchObject({
      status: 'healthy',
    })
    expect(await (await post({ service: 'k', status: 'failed' })).json()).toMatchObject({
      status: 'unhealthy',
    })
  })

  it('answers 429 for a new instance beyond MAX_INSTANCES, while known ones keep reporting', async () => {
    const { post } = setup({ MAX_INSTANCES: '2' })
    expect((await post({ service: 'a', instance: '1' })).status).toBe(202)
    expect((await post({ service: 'a', instance: '2' })).status).toBe(202)
    const refused = await post({ service: 'a', instance: '3' })
    expect(refused.status).toBe(429)
    expect(await refused.json()).toMatchObject({ error: 'too_many_instances' })
    expect((await post({ service: 'a', instance: '1' })).status).toBe(202)
  })

  describe('with HEARTBEAT_TOKEN', () => {
    it.each([
      ['no header', undefined],
      ['wrong token', `Bearer ${TOKEN}x`],
      ['Basic scheme', 'Basic dXNlcjpwYXNz'],
      ['token with spaces', 'Bearer bad token!'],
      ['empty bearer', 'Bearer '],
    ])('%s -> 401 with WWW-Authenticate, never 400', async (_desc, authorization) => {
      const { post, raw } = setup({ HEARTBEAT_TOKEN: TOKEN })
      const res = await post({ service: 'a' }, authorization === undefined ? {} : { authorization })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect(await res.json()).toMatchObject({ error: 'unauthorized' })
      expect(raw.join('\n')).not.toContain(TOKEN)
    })

    it('accepts the right token (scheme case-insensitive) and checks it before the body', async () => {
      const { post } = setup({ HEARTBEAT_TOKEN: TOKEN })
      expect((await post({ service: 'a' }, { authorization: `bearer ${TOKEN}` })).status).toBe(202)
      // Unauthenticated senders learn nothing about the schema.
      expect((await post('{bad', {})).status).toBe(401)
    })
  })
})

describe('DELETE /health', () => {
  it('deregisters an instance (204), then says 404', async () => {
    const { post, app } = setup()
    await post({ service: 'worker', instance: 'w1' })
    await post({ service: 'worker', instance: 'w2' })
    expect(
      (await app.request('/health?service=worker&instance=w1', { method: 'DELETE' })).status
    ).toBe(204)
    const doc = (await (await app.request('/health?service=worker')).json()) as {
      instances: { id: string }[]
    }
    expect(doc.instances.map((i) => i.id)).toEqual(['w2'])
    const again = await app.request('/health?service=worker&instance=w1', { method: 'DELETE' })
    expect(again.status).toBe(404)
    expect(await again.json()).toMatchObject({ error: 'not_found' })
  })

  it('validates its query', async () => {
    const { app } = setup()
    const res = await app.request('/health?instance=x', { method: 'DELETE' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toMatch(/service: is required/)
  })
})
