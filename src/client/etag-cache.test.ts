import createClient from 'openapi-fetch'
import { describe, expect, it } from 'vitest'

import { testApp } from '../../test/helpers/app.js'

import { etagCache } from './etag-cache.js'
import type { HealthBridgePaths } from './types.js'

function setup() {
  const { app, post } = testApp()
  /** What the bridge really answered, before any middleware saw it. */
  const wire: number[] = []
  const client = createClient<HealthBridgePaths>({
    baseUrl: 'http://bridge',
    fetch: async (request: Request) => {
      const res = await app.request(request)
      wire.push(res.status)
      return res
    },
  })
  return { client, beat: (body: Record<string, unknown>) => post(body), wire }
}

describe('etagCache (openapi-fetch middleware)', () => {
  it('revalidates with the ETag and turns each 304 into the answer it stands for', async () => {
    const { client, beat, wire } = setup()
    client.use(etagCache())
    await beat({ service: 'api' })
    const first = await client.GET('/health')
    const second = await client.GET('/health')
    expect(wire).toEqual([200, 304])
    expect(second.error).toBeUndefined()
    expect(second.data).toEqual(first.data)
    expect(second.response.status).toBe(200)

    await beat({ service: 'api', error: 'down' })
    const changed = await client.GET('/health', { params: { query: { statusCode: '200' } } })
    expect(changed.data?.status).toBe('unhealthy')
    // Per URL: the typed path has its own tag.
    await client.GET('/health/services/{service}', { params: { path: { service: 'api' } } })
    await client.GET('/health/services/{service}', { params: { path: { service: 'api' } } })
    expect(wire.slice(2)).toEqual([200, 503, 304])
  })

  it("replays a 503 as a 503: the unhealthy document stays in openapi-fetch's error", async () => {
    const { client, beat, wire } = setup()
    client.use(etagCache())
    await beat({ service: 'db', error: 'disk full' })
    await client.GET('/health')
    const again = await client.GET('/health')
    expect(wire).toEqual([503, 304])
    expect(again.response.status).toBe(503)
    expect(again.error).toMatchObject({ status: 'unhealthy' })
  })

  it('is what stands between openapi-fetch and an empty 304', async () => {
    const { client, beat } = setup()
    await beat({ service: 'api' })
    const { response } = await client.GET('/health')
    const etag = response.headers.get('etag') ?? ''
    const bare = await client.GET('/health', { headers: { 'if-none-match': etag } })
    expect(bare.response.status).toBe(304)
    expect(bare.data).toBeUndefined()
    expect(bare.error).toBe('')
  })
})
