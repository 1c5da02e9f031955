import { describe, expect, it } from 'vitest'

import { testApp } from '../../../test/helpers/app.js'

import { healthDocumentSchema } from '../../wire/health-document.js'

function setup(env: Record<string, string> = {}) {
  const t = testApp(env)
  return { ...t, beat: (body: Record<string, unknown>) => t.post(body) }
}

describe('GET /health', () => {
  it('serves the whole document, valid against its schema, with the HTTP status of the overall status', async () => {
    const { app, beat } = setup()
    await beat({ service: 'api' })
    let res = await app.request('/health')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(healthDocumentSchema.safeParse(await res.json()).success).toBe(true)
    await beat({ service: 'db', error: 'disk full' })
    res = await app.request('/health')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'unhealthy' })
  })

  it('answers 304 to If-None-Match until something a display draws changes', async () => {
    const { app, beat } = setup()
    await beat({ service: 'api' })
    const first = await app.request('/health')
    const etag = first.headers.get('etag') ?? ''
    expect(etag).toMatch(/^W\/"/)
    expect(first.headers.get('cache-control')).toBe('no-cache')
    await beat({ service: 'api', details: { n: 1 } })
    const again = await app.request('/health', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    await beat({ service: 'api', error: 'broken' })
    const changed = await app.request('/health', { headers: { 'if-none-match': etag } })
    expect(changed.status).toBe(503)
    expect(changed.headers.get('etag')).not.toBe(etag)
  })

  it('answers 304 per service and per instance, changing only with what is drawn for it', async () => {
    const { app, beat } = setup()
    await beat({ service: 'api', instance: 'a1' })
    await beat({ service: 'db' })
    const tagOf = async (url: string) => {
      const res = await app.request(url)
      expect(res.headers.get('cache-control')).toBe('no-cache')
      return res.headers.get('etag') ?? ''
    }
    const svc = await tagOf('/health?service=api')
    const inst = await tagOf('/health?service=api&instance=a1')
    const text = await tagOf('/health?service=api&format=text')
    expect(svc).toMatch(/^W\/"/)
    expect(inst).toMatch(/^W\/"/)
    const revalidate = (url: string, etag: string) =>
      app.request(url, { headers: { 'if-none-match': etag } })
    // Another service breaking does not change api's answers.
    await beat({ service: 'db', error: 'disk full' })
    await beat({ service: 'api', instance: 'a1', details: { n: 2 } })
    expect((await revalidate('/health?service=api', svc)).status).toBe(304)
    expect((await revalidate('/health?service=api&instance=a1', inst)).status).toBe(304)
    expect((await revalidate('/health?service=api&format=text', text)).status).toBe(304)
    // api's own instance breaking does.
    await beat({ service: 'api', instance: 'a1', error: 'broken' })
    const changed = await revalidate('/health?service=api', svc)
    expect(changed.status).toBe(503)
    expect(changed.headers.get('etag')).not.toBe(svc)
    expect((await revalidate('/health?service=api&instance=a1', inst)).status).toBe(503)
  })

  it('answers one service with its own status code, and 404 for an unknown one', async () => {
    const { app, beat } = setup()
    await beat({ service: 'query-scheduler', error: 'queue stuck' })
    await beat({ service: 'webui' })
    const res = await app.request('/health?service=query-scheduler')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({
      name: 'query-scheduler',
      status: 'unhealthy',
      message: 'queue stuck',
    })
    expect((await app.request('/health?service=webui')).status).toBe(200)
    const missing = await app.request('/health?service=nope')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: 'not_found' })
  })

  it('answers one instance, and 404 naming the known ones', async () => {
    const { app, beat } = setup()
    await beat({ service: 'worker', instance: 'w1' })
    await beat({ service: 'worker', instance: 'w2', error: 'oom' })
    expect((await app.request('/health?service=worker&instance=w1')).status).toBe(200)
    expect(await (await app.request('/health?service=worker&instance=w2')).json()).toMatchObject({
      id: 'w2',
      status: 'unhealthy',
    })
    const missing = await app.request('/health?service=worker&instance=w3')
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { message: string }).message).toContain('w1, w2')
  })

  it('answers one plain line with format=text, for curl -f and humans', async () => {
    const { app, beat } = setup()
    await beat({ service: 'query-scheduler', error: 'no workers' })
    const res = await app.request('/health?service=query-scheduler&format=text')
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await res.text()).toBe('query-scheduler unhealthy: no workers\n')
  })

  it.each([
    ['/health?servce=x', /unknown field\(s\): servce/],
    ['/health?service=a&service=b', /given 2 times/],
    ['/health?instance=x', /instance needs service/],
    ['/health?service=a&format=xml', /format: must be json or text/],
    ['/health?service=%3Cscript%3E', /service: must be 1-64/],
  ])('%s -> 400', async (path, message) => {
    const { app } = setup()
    const res = await app.request(path)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toMatch(message)
  })

  it('serves one service and one instance at typed paths: the same answers as the query form', async () => {
    const { app, beat } = setup()
    await beat({ service: 'worker', instance: 'w1' })
    await beat({ service: 'worker', instance: 'w2', error: 'oom' })
    for (const [typed, query] of [
      ['/health/services/worker', '/health?service=worker'],
      ['/health/services/worker/instances/w2', '/health?service=worker&instance=w2'],
      ['/health/services/worker/instances/w1', '/health?service=worker&instance=w1'],
    ] as const) {
      const [a, b] = await Promise.all([app.request(typed), app.request(query)])
      expect(a.status, typed).toBe(b.status)
      expect(a.headers.get('etag'), typed).toBe(b.headers.get('etag'))
      expect(await a.text(), typed).toBe(await b.text())
    }
    const svc = await app.request('/health/services/worker')
    expect(svc.status).toBe(200)
    expect(await svc.json()).toMatchObject({ name: 'worker', status: 'degraded' })
    const again = await app.request('/health/services/worker', {
      headers: { 'if-none-match': svc.headers.get('etag') ?? '' },
    })
    expect(again.status).toBe(304)
    expect((await app.request('/health/services/nope')).status).toBe(404)
    const missing = await app.request('/health/services/worker/instances/w3')
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { message: string }).message).toContain('w1, w2')
  })

  it('answers 200 with the status in the body when asked (statusCode=200); errors stay errors', async () => {
    const { app, beat } = setup()
    await beat({ service: 'db', error: 'disk full' })
    for (const path of [
      '/health',
      '/health?service=db',
      '/health/services/db',
      '/health/services/db/instances/default',
    ]) {
      expect((await app.request(path)).status, path).toBe(503)
      const sep = path.includes('?') ? '&' : '?'
      const res = await app.request(`${path}${sep}statusCode=200`)
      expect(res.status, path).toBe(200)
      expect(await res.json(), path).toMatchObject({ status: 'unhealthy' })
      expect((await app.request(`${path}${sep}statusCode=health`)).status, path).toBe(503)
    }
    expect((await app.request('/health/services/nope?statusCode=200')).status).toBe(404)
  })

  it.each([
    ['/health?statusCode=201', /statusCode: must be 200 \(always answer 200/],
    ['/health/services/db?format=text', /typed paths answer JSON only.*format=text/],
    ['/health/services/db?service=x', /unknown field\(s\): service/],
    ['/health/services/bad%20name', /service: must be 1-64/],
    ['/health/services/db/instances/%3Cx%3E', /instance: must be an instance name \(1-128/],
    ['/openapi.json?v=2', /unknown field\(s\): v/],
  ])('%s -> 400 saying what to fix', async (path, message) => {
    const { app } = setup()
    const res = await app.request(path)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toMatch(message)
  })

  it('answers 405 with Allow for other methods and 404 JSON for unknown routes', async () => {
    const { app } = setup()
    const put = await app.request('/health', { method: 'PUT' })
    expect(put.status).toBe(405)
    expect(put.headers.get('allow')).toContain('GET')
    const nope = await app.request('/nope')
    expect(nope.status).toBe(404)
    expect(await nope.json()).toMatchObject({ error: 'not_found' })
  })
})

describe('live, ready and history', () => {
  it('is live, and ready when Docker is off', async () => {
    const { app } = setup()
    expect((await app.request('/health/live')).status).toBe(200)
    // Whatever it is asked: a probe fails only when the process is gone.
    expect((await app.request('/health/live?verbose=1')).status).toBe(200)
    const ready = await app.request('/health/ready')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      ready: true,
      sources: { docker: { state: 'disabled' } },
    })
  })

  it('is not ready while Docker is enabled and not following', async () => {
    const { app, store } = setup()
    store.setDockerStatus({
      state: 'syncing',
      project: 'p',
      lastEventAt: null,
      unreachableSince: null,
      synced: false,
      detail: null,
    })
    const ready = await app.request('/health/ready')
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ ready: false, status: 'starting' })
  })

  it('lists transitions newest first, per service', async () => {
    const { app, beat } = setup()
    await beat({ service: 'api' })
    await app.request('/health')
    await beat({ service: 'api', error: 'boom' })
    await app.request('/health')
    const list = (await (await app.request('/health/history?service=api')).json()) as {
      from: string | null
      to: string
      instance: string | null
    }[]
    expect(list.filter((t) => t.instance === null).map((t) => [t.from, t.to])).toEqual([
      ['healthy', 'unhealthy'],
      [null, 'healthy'],
    ])
    expect((await app.request('/health/history?service=ghost')).status).toBe(404)
    expect((await app.request('/health/history?limit=0')).status).toBe(400)
    expect((await app.request('/health/history?limit=1.5')).status).toBe(400)
    const one = (await (await app.request('/health/history?limit=1')).json()) as unknown[]
    expect(one).toHaveLength(1)
  })
})
