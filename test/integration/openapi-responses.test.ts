/**
 * What the WebUI's generated client believes (the OpenAPI document) against what a real bridge
 * answers: every answer below, errors included, must be a documented status and content type,
 * and its JSON body must validate against the documented schema, with an independent JSON
 * Schema 2020-12 validator (ajv), not with the zod schemas the document was generated from.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { SseParser } from '../../src/client/sse.js'
import { loadConfig } from '../../src/config/config.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { waitFor } from '../helpers/wait-for.js'

type Json = Record<string, unknown>
interface ResponseObject {
  $ref?: string
  content?: Record<string, { schema: Json }>
}
interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>
  components: { responses: Record<string, ResponseObject> }
}

const TOKEN = 'heartbeat-token-0123456789'
let bridge: RunningBridge
let openapi: OpenApi
let ajv: Ajv2020
const checked: string[] = []

beforeAll(async () => {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'off',
    HEARTBEAT_TOKEN: TOKEN,
    MAX_INSTANCES: '3',
    MAX_STREAMS: '1',
  })
  bridge = await startBridge({ config, logger: memoryLogger('warn').logger })
  openapi = (await (await fetch(`${bridge.url}/openapi.json`)).json()) as OpenApi
  // Formats are not asserted (zod also emits a pattern for each date-time, which is).
  ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true })
  ajv.addSchema(openapi, 'openapi')
})

afterAll(async () => {
  await bridge.stop()
  process.stderr.write(`[openapi] validated ${checked.length} answers: ${checked.join(', ')}\n`)
})

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')

/**
 * Checks one real answer against the document; returns the parsed JSON body, if any. `path` is
 * the documented path (template) the request was an instance of.
 */
async function conforms(method: string, path: string, res: Response): Promise<unknown> {
  const op = openapi.paths[path]?.[method.toLowerCase()]
  expect(op, `${method} ${path} is documented`).toBeDefined()
  const status = String(res.status)
  let response = op?.responses[status]
  expect(response, `${method} ${path} → ${status} is documented`).toBeDefined()
  // Where the response object lives, as a JSON pointer: in the operation, or shared.
  let at = pointer('paths', path, method.toLowerCase(), 'responses', status)
  if (response?.$ref !== undefined) {
    at = response.$ref.slice(2)
    response = openapi.components.responses[response.$ref.split('/').at(-1) ?? '']
  }
  const text = await res.text()
  checked.push(`${method} ${path} ${status}`)
  if (response?.content === undefined) {
    expect(text, `${method} ${path} → ${status} has no body`).toBe('')
    return undefined
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? ''
  const media = response.content[type]
  expect(media, `${method} ${path} → ${status} as ${type} is documented`).toBeDefined()
  if (type !== 'application/json') return text
  const body = JSON.parse(text) as unknown
  validate(
    `openapi#/${at}/${pointer('content', type, 'schema')}`,
    body,
    `${method} ${path} → ${status}`
  )
  return body
}

function validate(ref: string, value: unknown, what: string): void {
  const check = ajv.getSchema(ref)
  if (!check) throw new Error(`no schema at ${ref}`)
  const ok = check(value)
  expect(ok ? [] : check.errors, `${what} validates against ${ref}`).toEqual([])
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${bridge.url}/health`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${bridge.url}${path}`, { headers })

describe('real answers conform to GET /openapi.json', () => {
  it('has schemas that reject what the bridge must never send (the check is not vacuous)', async () => {
    const doc = (await (await get('/health')).json()) as Json
    const check = ajv.getSchema('openapi#/components/schemas/HealthDocument')
    expect(check?.(doc)).toBe(true)
    expect(check?.({ ...doc, status: 'fine' })).toBe(false)
    expect(check?.({ ...doc, secret: 'an undocumented field' })).toBe(false)
    expect(check?.({ ...doc, checkedAt: 'yesterday' })).toBe(false)
    const { services: _dropped, ...withoutServices } = doc
    expect(check?.(withoutServices)).toBe(false)
  })

  it('heartbeats: 202, 400, 401, 413, 415, 429', async () => {
    await conforms(
      'POST',
      '/health',
      await post({ service: 'api', instance: 'a1', details: { q: 1 } })
    )
    await conforms(
      'POST',
      '/health',
      await post({ service: 'db', error: 'disk full', timestamp: Date.now() })
    )
    await conforms('POST', '/health', await post({ service: 'job', status: 'succeeded' }))
    await conforms('POST', '/health', await post({ service: 'bad name!' }))
    await conforms('POST', '/health', await post('{not json'))
    await conforms(
      'POST',
      '/health',
      await post({ service: 'api' }, { authorization: 'Bearer wrong-token-000000' })
    )
    await conforms(
      'POST',
      '/health',
      await post({ service: 'api', details: { x: 'y'.repeat(17_000) } })
    )
    await conforms('POST', '/health', await post('{}', { 'content-type': 'text/plain' }))
    await conforms('POST', '/health', await post({ service: 'fourth', instance: 'new' }))
  })

  it('GET /health: the document (200 and 503), statusCode=200, 304, 400', async () => {
    const whole = await get('/health')
    expect(whole.status).toBe(503)
    const etag = whole.headers.get('etag') ?? ''
    await conforms('GET', '/health', whole)
    await conforms('GET', '/health', await get('/health', { 'if-none-match': etag }))
    const always = await get('/health?statusCode=200')
    expect(always.status).toBe(200)
    expect(await conforms('GET', '/health', always)).toMatchObject({ status: 'unhealthy' })
    await conforms('GET', '/health', await get('/health?statusCode=2xx'))
  })

  it('the typed paths: a service, an instance, 304, 400, 404', async () => {
    const svc = '/health/services/{service}'
    const inst = '/health/services/{service}/instances/{instance}'
    const api = await get('/health/services/api')
    await conforms('GET', svc, api)
    await conforms('GET', svc, await get('/health/services/db'))
    await conforms('GET', svc, await get('/health/services/db?statusCode=200'))
    await conforms(
      'GET',
      svc,
      await get('/health/services/api', { 'if-none-match': api.headers.get('etag') ?? '' })
    )
    await conforms('GET', svc, await get('/health/services/nope'))
    await conforms('GET', svc, await get('/health/services/api?format=text'))
    await conforms('GET', inst, await get('/health/services/api/instances/a1'))
    await conforms('GET', inst, await get('/health/services/api/instances/nope'))
    await conforms('GET', inst, await get('/health/services/api/instances/a%20b'))
  })

  it("the orchestrators' query form answers what its typed twin answers, or one text line", async () => {
    // Documented in prose on GET /health; its JSON must be the typed paths' shapes.
    const twins = [
      ['/health?service=api', '/health/services/{service}'],
      ['/health?service=db', '/health/services/{service}'],
      ['/health?service=api&instance=a1', '/health/services/{service}/instances/{instance}'],
      ['/health?service=nope', '/health/services/{service}'],
      ['/health?service=api&instance=nope', '/health/services/{service}/instances/{instance}'],
      ['/health?servce=api', '/health'],
    ] as const
    for (const [url, documented] of twins) await conforms('GET', documented, await get(url))
    const { description } = openapi.paths['/health']?.['get'] as unknown as {
      description: string
    }
    expect(description).toContain('?service=X&instance=Y')
    expect(description).toContain('&format=text')
    for (const url of ['/health?service=api&format=text', '/health?format=text']) {
      const res = await get(url)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(await res.text()).toMatch(
        /^([\w.-]+ (healthy|degraded|starting|unknown|unhealthy): .*\n)+$/
      )
      checked.push(`GET ${url} (text)`)
    }
  })

  it('GET /health: a 200 document once healthy again', async () => {
    const del = await fetch(`${bridge.url}/health?service=db`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    await conforms('DELETE', '/health', del)
    await waitFor(async () => (await get('/health')).status === 200)
    await conforms('GET', '/health', await get('/health'))
  })

  it('deregistration, probes, history, metrics, the page and this document', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` }
    await conforms(
      'DELETE',
      '/health',
      await fetch(`${bridge.url}/health?service=nope`, { method: 'DELETE', headers: auth })
    )
    await conforms(
      'DELETE',
      '/health',
      await fetch(`${bridge.url}/health`, { method: 'DELETE', headers: auth })
    )
    await conforms('GET', '/health/live', await get('/health/live'))
    await conforms('GET', '/health/ready', await get('/health/ready'))
    await conforms('GET', '/health/history', await get('/health/history'))
    await conforms('GET', '/health/history', await get('/health/history?service=api&limit=2'))
    await conforms('GET', '/health/history', await get('/health/history?limit=0'))
    await conforms('GET', '/health/history', await get('/health/history?service=nope'))
    await conforms('GET', '/metrics', await get('/metrics'))
    await conforms('GET', '/openapi.json', await get('/openapi.json'))
    await conforms('GET', '/openapi.json', await get('/openapi.json?v=2'))
    await conforms('GET', '/', await get('/'))
    await conforms('GET', '/', await get('/?x=1'))
    await conforms('GET', '/page/fragment', await get('/page/fragment'))
    await conforms('GET', '/assets/page.js', await get('/assets/page.js'))
    await conforms('GET', '/assets/page.css', await get('/assets/page.css'))
  })

  it('the stream: its events are HealthDocuments; beyond MAX_STREAMS a 429; bad query a 400', async () => {
    const res = await get('/health/stream')
    expect(res.status).toBe(200)
    expect(
      openapi.paths['/health/stream']?.['get']?.responses['200']?.content?.['text/event-stream']
    ).toBeDefined()
    const refused = await get('/health/stream')
    await conforms('GET', '/health/stream', refused)
    await conforms('GET', '/health/stream', await get('/health/stream?x=1'))
    if (!res.body) throw new Error('no body')
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    const parser = new SseParser()
    const events = []
    while (events.length === 0) {
      const { value, done } = await reader.read()
      if (done) break
      events.push(...parser.push(value))
    }
    expect(events[0]?.event).toBe('health')
    validate(
      'openapi#/components/schemas/HealthDocument',
      JSON.parse(events[0]?.data ?? ''),
      'a health event'
    )
    checked.push('GET /health/stream 200 (event)')
    await reader.cancel()
  })
})
