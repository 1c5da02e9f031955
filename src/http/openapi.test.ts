import { afterEach, describe, expect, it } from 'vitest'

import { memoryLogger } from '../../test/helpers/log-sink.js'
import { createApp } from '../app.js'
import { loadConfig } from '../config/config.js'
import { HealthStore } from '../store/health-store.js'
import { VERSION } from '../version.js'

import { buildOpenApiDocument } from './openapi.js'

const stores: HealthStore[] = []
function setup() {
  const config = loadConfig({ DOCKER: 'off' })
  const { logger } = memoryLogger()
  const store = new HealthStore({ config, clock: { now: () => Date.now() }, logger, version: 't' })
  stores.push(store)
  return createApp({ store, config, logger })
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>
  >
  components: Record<string, Record<string, unknown>>
}

/** Every `$ref` anywhere in the document. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out)
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v)
      else refsIn(v, out)
    }
  }
  return out
}

describe('GET /openapi.json', () => {
  it('describes every route the app serves (a new route without a description fails here)', () => {
    const app = setup()
    const doc = buildOpenApiDocument(VERSION) as Doc
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.method !== 'HEAD')
        .map((r) => `${r.method.toLowerCase()} ${r.path}`)
    )
    const described = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m} ${path}`)
      )
    )
    expect([...served].sort()).toEqual([...described].sort())
  })

  it('resolves every $ref inside the document', () => {
    const doc = buildOpenApiDocument(VERSION) as Doc
    const refs = [...new Set(refsIn(doc))]
    expect(refs.length).toBeGreaterThan(10)
    for (const ref of refs) {
      expect(ref.startsWith('#/components/')).toBe(true)
      const [, , section, name] = ref.split('/')
      expect(doc.components[section ?? '']?.[name ?? ''], ref).toBeDefined()
    }
  })

  it('takes the shapes from the zod schemas: strict request bodies, closed answers, the error codes', () => {
    const doc = buildOpenApiDocument(VERSION) as Doc
    const schemas = doc.components['schemas'] as Record<string, Record<string, unknown>>
    expect(schemas['HeartbeatRequest']).toMatchObject({
      type: 'object',
      required: ['service'],
      additionalProperties: false,
    })
    const errorCodes = (schemas['Error']?.['properties'] as { error: { enum: string[] } }).error
    expect(errorCodes.enum).toContain('too_many_streams')
    expect(errorCodes.enum).toContain('too_many_instances')
    expect(schemas['Service']).toMatchObject({
      properties: { impactedBy: { type: 'array' }, since: { format: 'date-time' } },
    })
    // Query parameters come from the routes' own strict schemas.
    const params = doc.paths['/health']?.['get']?.parameters ?? []
    expect(params.map((p) => p.name)).toEqual(['service', 'instance', 'format', 'If-None-Match'])
  })

  it('is served as JSON, revalidatable', async () => {
    const app = setup()
    const res = await app.request('/openapi.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await res.json()) as { openapi: string; info: { version: string } }
    expect(body.openapi).toBe('3.1.0')
    expect(body.info.version).toBe(VERSION)
    const again = await app.request('/openapi.json', {
      headers: { 'if-none-match': res.headers.get('etag') ?? '' },
    })
    expect(again.status).toBe(304)
  })
})
